/**
 * Regressions: two hostile-input bugs these tests found (fixed since): out-of-window SYNs answered by
 * unlimited plain ACKs, and spoofed on-link sources evicting live neighbours from the ARP cache.
 */
import assert from "node:assert/strict";
import { ACK, add, established, PEER_ISS, SYN, teardownAll } from "../helpers/peer.js";

const P = add(PEER_ISS, 1);

describe("regression: RFC 5961 SYN handling", () => {
  afterEach(function () { teardownAll(this.currentTest?.state === "passed"); });

  it("RFC 5961 §4.2 + §7: a SYN outside the window is answered by a rate-limited challenge ACK (irrespective of the sequence number)", () => {
    const p = established();
    p.drain();
    const wnd = p.t.rcvSpace();
    for (let k = 0; k < 100; k++) p.peerSends({ flags: SYN, seq: add(P, wnd + 1000 + k * 7919), mss: 1460 });
    const acks = p.drain().filter((s) => s.flags === ACK).length;
    assert.equal(p.state(), "ESTABLISHED");
    assert.equal(p.counters.tcpChallengeAcks + p.counters.tcpChallengeAcksSuppressed, 100, "every SYN is a challenge-ACK case");
    assert.ok(acks <= p.stack.config.challengeAckPerSec, `${acks} ACKs sent in answer to 100 SYNs within one second`);
  });
});

import { Rng } from "../../host-sim/rng.js";
import { parseIp } from "../../src/wire/bytes.js";
import { emitEth, ETH_HLEN, ETHERTYPE_IPV4 } from "../../src/wire/ethernet.js";
import { emitIpv4, IPV4_HLEN, PROTO_TCP } from "../../src/wire/ipv4.js";
import { emitTcp, fillTcpChecksum, TCP_HLEN } from "../../src/wire/tcp.js";
import { B_IP, Transfer } from "../fuzz/transfer.js";

describe("regression: ARP cache eviction by spoofed on-link sources", () => {
  it("segments from 100 spoofed on-link sources to a closed port (each answered with a RST) must not stall an established transfer", () => {
    const size = 400_000;
    const run = (flood: boolean): number => {
      const tr = new Transfer({ seed: 7, up: size, down: size, faults: { delayMs: 5 } });
      const rng = new Rng(7);
      if (flood) {
        let ms = 0;
        const tick = (): void => {
          for (let k = 0; k < 5; k++) {
            const src = (parseIp("192.0.2.100") + rng.int(100)) >>> 0;
            const f = new Uint8Array(ETH_HLEN + IPV4_HLEN + TCP_HLEN);
            emitEth(f, 0, tr.nb.mac, 0, new Uint8Array([2, 0xee, 0, 0, 0, 9]), 0, ETHERTYPE_IPV4);
            emitIpv4(f, ETH_HLEN, src, B_IP, PROTO_TCP, TCP_HLEN, 1, 64);
            emitTcp(f, ETH_HLEN + IPV4_HLEN, 1024 + rng.int(60000), 9999, rng.nextU32(), rng.nextU32(), ACK, 1000, 0);
            fillTcpChecksum(f, ETH_HLEN + IPV4_HLEN, TCP_HLEN, src, B_IP);
            tr.B.input(f, f.length, tr.net.now);
          }
          if (++ms < 60_000 && !tr.complete()) tr.net.schedule(tr.net.now + 1, tick);
        };
        const wait = (): void => { if (tr.moved() > 0) tick(); else tr.net.schedule(tr.net.now + 1, wait); };
        tr.net.schedule(5, wait);
      }
      tr.runToEnd(600_000);
      assert.ok(tr.complete() && tr.byteExact());
      console.log(`      flood=${flood}: ${tr.doneMs - tr.startMs} ms, B arpCacheFull=${tr.B.counters.arpCacheFull}, arpOutRequests=${tr.B.counters.arpOutRequests}`);
      return tr.doneMs - tr.startMs;
    };
    const base = run(false), flooded = run(true);
    assert.ok(flooded < base * 2, `transfer took ${flooded} ms under the flood vs ${base} ms without`);
  });
});
