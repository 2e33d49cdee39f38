/**
 * Inside a fresh namespace: TapDriver life cycle. Prints a report, then must exit BY ITSELF
 * (no process.exit): an idle closed or unref'd TAP must not keep Node alive. argv: [close|unref]
 */
import { performance } from "node:perf_hooks";
import { TapDriver } from "../../../host-sim/tap.js";
import { enterNetns, neighPermanent, report, setupNamespace, sh, shAsync, tapUp } from "../../../host-sim/netns.js";
import { udpFrame } from "./frames.js";

enterNetns(15_000);
const mode = process.argv[2] ?? "close";
setupNamespace();
const tap = new TapDriver({ name: "tap0" });
const frame = udpFrame(new Uint8Array(6).fill(0xff), tap.mac, "192.0.2.2", "192.0.2.1", 1, 9, 18);

// Link down: the kernel refuses with EIO, the driver returns false and counts it.
const whileDown = tap.transmit(frame, frame.length);
const refusedWhileDown = tap.txRefused;

// A timer-driven endpoint: poll asks to be woken 30 ms later, 5 times.
let polls = 0;
let inputs = 0;
let firstPoll = 0;
let lastPoll = 0;
tap.attach({
  input() {
    inputs++;
  },
  poll(now) {
    polls++;
    if (polls === 1) firstPoll = now;
    lastPoll = now;
    return polls < 6 ? now + 30 : Infinity;
  },
});
tapUp("tap0", "192.0.2.1/24");
neighPermanent("192.0.2.2", "02:00:00:00:00:02");
const whileUp = tap.transmit(frame, frame.length);

setTimeout(async () => {
  // The kernel talks to us: frames arrive and are counted.
  await shAsync("ping -n -c 2 -i 0.2 -W 1 192.0.2.2", 3_000);
  const afterPing = { rxFrames: tap.rxFrames, rxDelivered: tap.rxDelivered, inputs };
  if (mode === "unref") tap.unref();
  else tap.close();
  const afterClose = tap.transmit(frame, frame.length);
  report({
    mode,
    whileDown,
    refusedWhileDown,
    whileUp,
    afterClose,
    afterPing,
    polls,
    timerFires: tap.timerFires,
    pollSpanMs: lastPoll - firstPoll,
    tapStillThere: sh("ip -o link show dev tap0 2>/dev/null || true").includes("tap0"),
    counters: tap.counters(),
    t: performance.now(),
  });
}, 400);
