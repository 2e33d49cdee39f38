/**
 * Shared by the lwIP and sysctl interop scripts (run inside a namespace): our Stack on a TapDriver with
 * the same platform loop as host-sim/tap-cli.ts, an echo client, a sender that holds the connection
 * open until told to close, and a few tshark judges.
 */
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { type Env, writePattern } from "../../../host-sim/apps.js";
import { sh } from "../../../host-sim/netns.js";
import { TapDriver } from "../../../host-sim/tap.js";
import { TCP } from "../../../src/socket/tcp.js";
import { setDefaultStack } from "../../../src/socket/index.js";
import { Stack } from "../../../src/stack.js";

export interface OurStack { tap: TapDriver; stack: Stack; env: Env }

/** Opens tap0 (not yet up) with our stack at 192.0.2.2/24. */
export function openStack(): OurStack {
  const tap = new TapDriver({ name: "tap0" });
  const stack = new Stack({ address: "192.0.2.2", netmask: "255.255.255.0", gateway: "192.0.2.1" } as ConstructorParameters<typeof Stack>[0], tap);
  const clock = (): number => performance.now();
  const env: Env = { stack, clock };
  setDefaultStack(stack, clock);
  let wakeQueued = false;
  stack.onWake = (): void => {
    if (wakeQueued) return;
    wakeQueued = true;
    setImmediate(() => { wakeQueued = false; tap.kick(); });
  };
  let sincePoll = 0;
  tap.attach({
    input(frame: Uint8Array, length: number, now: number): void {
      stack.input(frame, length, now);
      if (++sincePoll >= 32) { sincePoll = 0; stack.poll(now); }
    },
    poll(now: number): number { sincePoll = 0; return stack.poll(now); },
  });
  return { tap, stack, env };
}

export interface TransferResult { bytesSent: number; bytesReceived: number; sha256: string; ms: number; error: string }

/** Sends `total` pattern bytes to address:port and hashes what comes back; closes once `total` came back. */
export function echoClient(env: Env, address: string, port: number, total: number, timeoutMs: number): Promise<TransferResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let sent = 0, received = 0, finished = false;
    const hash = createHash("sha256");
    const chunk = new Uint8Array(8192);
    const buf = new Uint8Array(16384);
    const finish = (s: TCP | null, error: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      try { s?.close(); } catch { /* already closed */ }
      resolve({ bytesSent: sent, bytesReceived: received, sha256: hash.digest("hex"), ms: performance.now() - t0, error });
    };
    const sock: TCP = new TCP({
      address, port, stack: env.stack, clock: env.clock,
      onWritable(this: TCP, room: number): void {
        sent = writePattern(this, room, chunk, sent, total);
      },
      onReadable(this: TCP): void {
        for (let i = 0; i < 10_000; i++) {
          const n = this.read(buf) as number | undefined;
          if (!n) break;
          hash.update(buf.subarray(0, n));
          received += n;
        }
        if (received >= total) finish(this, "");
      },
      onError(this: TCP): void { finish(this, received >= total ? "" : `onError after ${received} of ${total} bytes back`); },
    });
    const timer = setTimeout(() => finish(sock, `timeout: sent ${sent}, back ${received} of ${total}`), timeoutMs);
  });
}

/**
 * Sends `total` pattern bytes; when all are written calls `beforeClose()` (e.g. sample `ss`), then
 * closes gracefully. Resolves after the close (or on error / timeout).
 */
export function holdingSender(env: Env, address: string, port: number, total: number, timeoutMs: number,
  beforeClose: () => Promise<void>): Promise<TransferResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let sent = 0, finished = false, closing = false;
    const chunk = new Uint8Array(8192);
    const finish = (s: TCP, error: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      try { s.close(); } catch { /* already closed */ }
      resolve({ bytesSent: sent, bytesReceived: 0, sha256: "", ms: performance.now() - t0, error });
    };
    const sock: TCP = new TCP({
      address, port, stack: env.stack, clock: env.clock,
      onWritable(this: TCP, room: number): void {
        sent = writePattern(this, room, chunk, sent, total);
        if (sent >= total && !closing) {
          closing = true;
          void beforeClose().then(() => finish(this, ""), (e: unknown) => finish(this, String(e)));
        }
      },
      onReadable(this: TCP): void { this.read(); },
      onError(this: TCP): void { finish(this, sent >= total && closing ? "" : `onError after ${sent} of ${total} bytes`); },
    });
    const timer = setTimeout(() => finish(sock, `timeout: sent ${sent} of ${total}`), timeoutMs);
  });
}

export interface PcapJudge {
  frames: number;
  malformed: number;
  badChecksums: number;
  retransmissionsBySrc: Record<string, number>;
  expertErrors: string;
  syns: string[];
}

/** tshark over a capture: malformed frames, bad checksums (0xffff-for-0 excluded by tshark's status), retransmissions per source, SYN options. */
export function judgePcap(pcap: string): PcapJudge {
  const count = (filter: string, extra = ""): number =>
    Number(sh(`tshark -n -r ${pcap} ${extra} -Y '${filter}' -T fields -e frame.number 2>/dev/null | wc -l`, 60_000).trim());
  const frames = Number(sh(`tshark -n -r ${pcap} -T fields -e frame.number 2>/dev/null | wc -l`, 60_000).trim());
  const malformed = count("_ws.malformed || _ws.expert.severity == error");
  const badChecksums = count("tcp.checksum.status == 0 || ip.checksum.status == 0", "-o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE");
  const rt = sh(`tshark -n -r ${pcap} -Y tcp.analysis.retransmission -T fields -e ip.src 2>/dev/null | sort | uniq -c`, 60_000);
  const retransmissionsBySrc: Record<string, number> = {};
  for (const l of rt.split("\n")) {
    const m = /^\s*(\d+)\s+(\S+)/.exec(l);
    if (m) retransmissionsBySrc[m[2]!] = Number(m[1]);
  }
  const expert = sh(`tshark -n -r ${pcap} -q -z expert,error 2>/dev/null`, 60_000);
  const syns = sh(`tshark -n -r ${pcap} -Y 'tcp.flags.syn == 1' -T fields -e ip.src -e tcp.flags.ack -e tcp.options.mss_val -e tcp.option_kind -e tcp.options.wscale.shift 2>/dev/null`, 60_000)
    .trim().split("\n").filter(Boolean).map((l) => {
      const [src, ack, mss, kinds, ws] = l.split("\t");
      const k = (kinds ?? "").split(",");
      return `${src} ${ack === "1" ? "SYN-ACK" : "SYN"} mss=${mss || "-"} sack=${k.includes("4") ? "yes" : "no"} ts=${k.includes("8") ? "yes" : "no"} wscale=${k.includes("3") ? ws : "-"}`;
    });
  return { frames, malformed, badChecksums, retransmissionsBySrc, expertErrors: expert.trim().split("\n").slice(-8).join("\n"), syns };
}
