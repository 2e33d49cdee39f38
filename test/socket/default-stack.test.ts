/** The platform default stack registry, and the poll() deadline the sockets rely on. */
import assert from "node:assert/strict";
import { clearDefaultStack, setDefaultStack } from "../../src/socket/default-stack.js";
import { Listener } from "../../src/socket/listener.js";
import { TCP } from "../../src/socket/tcp.js";
import { CLOSED, EV_READABLE } from "../../src/tcp/tcb.js";
import { ADDR_B, api, assertPoolsEmpty, cb, closeAll, makeEnv, resetViolations, runUntil } from "./helpers.js";

describe("socket/default-stack", () => {
  afterEach(() => clearDefaultStack());

  it("sockets without a stack option use the registered stack and clock", () => {
    resetViolations();
    const env = makeEnv(3);
    assert.throws(() => new TCP({ address: ADDR_B, port: 80 }), { message: /no stack/ });
    assert.throws(() => setDefaultStack(env.A, 5 as unknown as () => number), TypeError);
    setDefaultStack(env.A, env.clock);
    let srv: TCP | undefined;
    let up = false;
    const l = api(() => new Listener({ ...env.b, port: 80, onReadable: cb(function (this: Listener) { srv = this.read(); }) }));
    const c = api(() => new TCP({ address: ADDR_B, port: 80, onWritable: cb(() => { up = true; }) }));
    runUntil(env, () => up && srv !== undefined);
    assert.equal(env.A.tcp.inUse().connections, 1);
    closeAll(c, srv, l);
    assertPoolsEmpty(env);
  });
});

// Events raised on a CLOSED Tcb that still has an owner, while poll() is delivering (e.g. a socket
// adopted inside a callback whose connection was already reset), must make poll() return `now`.
describe("poll() deadline with events on a CLOSED Tcb", () => {
  it("poll() returns now when a CLOSED Tcb owned by a socket has undelivered events", () => {
    const env = makeEnv(5);
    const tcbs = env.A.tcp.tcbs;
    assert.equal(tcbs[0].state, CLOSED);
    tcbs[0].owner = { deliver(): void { /* a socket */ } };
    // Another owner's callback raises an event on tcbs[0] during the delivery pass.
    tcbs[1].owner = { deliver(): void { tcbs[0].events |= EV_READABLE; } };
    tcbs[1].events = EV_READABLE;
    const now = 1000;
    const next = env.A.poll(now);
    assert.equal(tcbs[0].events, EV_READABLE);
    assert.equal(next, now, "undelivered events must make poll() return now");
  });
});
