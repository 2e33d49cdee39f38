/**
 * Real captured segments for every TCP state: each scripted-peer fixture (test/helpers/peer.ts) is
 * brought to its state, then a little traffic is exchanged (peer data, a bare ACK, our data, a FIN,
 * timers) and every frame in both directions is recorded. The fuzz campaign mutates these.
 */
import { ERR_ABORTED } from "../../src/tcp/tcb.js";
import {
  ACK, add, closeWait, closing, established, establishedActive, FIN, finWait1, finWait2, lastAck, listening, PSH,
  type Peer, PEER_ISS, PEER_PORT, SERVER_PORT, SYN, synReceived, synSent, teardownAll, timeWait,
} from "../helpers/peer.js";

export interface Captured { state: string; fromStack: boolean; frame: Uint8Array }

function record(p: Peer, state: string, out: Captured[]): void {
  p.stack.onReceive = (b, at, len) => { out.push({ state, fromStack: false, frame: b.slice(at, at + len) }); };
  p.stack.onTransmit = (b, at, len) => { out.push({ state, fromStack: true, frame: b.slice(at, at + len) }); };
}

function traffic(p: Peer): void {
  const t = p.tcb;
  if (t === null) return;
  const seq = t.rcvNxt, ack = t.sndNxt;
  p.peerSends({ flags: ACK | PSH, seq, ack, data: 100 });
  p.peerSends({ flags: ACK, seq: add(seq, 100), ack });
  p.peerSends({ flags: ACK, seq: add(seq, 300), ack, data: 50 }); // out of order: SACK
  try { if (t.owner !== null || t.accepted) p.write(700); } catch { /* state without a send side */ }
  p.advance(250);
  p.peerSends({ flags: ACK, seq: add(seq, 100), ack: t.sndNxt, data: 200, sack: [[add(seq, 300), add(seq, 350)]] });
  p.peerSends({ flags: FIN | ACK, seq: add(seq, 350), ack: t.sndNxt });
  p.advance(1500);
}

/** Captured frames from every state (the peer fixtures are torn down by hand, not via teardownAll). */
export function captureCorpus(): Captured[] {
  const out: Captured[] = [];
  const fixtures: [string, () => Peer][] = [
    ["SYN-SENT", () => synSent()], ["SYN-RECEIVED", () => synReceived()], ["ESTABLISHED", () => established()],
    ["ESTABLISHED-active", () => establishedActive()], ["FIN-WAIT-1", () => finWait1()], ["FIN-WAIT-2", () => finWait2()],
    ["CLOSE-WAIT", () => closeWait()], ["LAST-ACK", () => lastAck()], ["CLOSING", () => closing()],
    ["TIME-WAIT", () => timeWait()], ["ESTABLISHED-plain", () => established({ mss: null, sackOk: false, ts: false, wscale: 2 })],
  ];
  for (const [state, make] of fixtures) {
    const p = make();
    record(p, state, out);
    if (state === "TIME-WAIT") {
      p.peerSends({ flags: FIN | ACK, seq: add(PEER_ISS, 1), ack: 0 });
      p.peerSends({ flags: SYN, seq: add(PEER_ISS, 100000), mss: 1460, sackOk: true, ts: [p.peerTs(), 0] });
    } else if (state === "SYN-SENT") {
      p.peerSends({ flags: SYN, seq: PEER_ISS, mss: 536, wscale: 7, sackOk: true, ts: [p.peerTs(), 0] });
      p.advance(3000);
    } else traffic(p);
    drop(p);
  }
  // LISTEN: a SYN with every option, a stray ACK, a RST.
  const p = listening();
  record(p, "LISTEN", out);
  p.peerSends({ flags: SYN, seq: 1000, mss: 1460, wscale: 3, sackOk: true, ts: [p.peerTs(), 0], srcPort: PEER_PORT + 1, dstPort: SERVER_PORT });
  p.peerSends({ flags: ACK, seq: 1000, ack: 5, srcPort: PEER_PORT + 2 });
  p.advance(2000);
  drop(p);
  teardownAll(false); // forget these peers: no later afterEach must tear them down
  return out;
}

function drop(p: Peer): void {
  p.stack.onReceive = null;
  p.stack.onTransmit = null;
  const tcp = p.stack.tcp;
  for (const t of tcp.tcbs) if (t.state !== 0) { t.orphan = true; tcp.abort(t, ERR_ABORTED, p.now); }
}
