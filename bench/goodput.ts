/**
 * Goodput over SimNetwork (issue 7): buffer {1, 4, 32} KiB × loss {0, 1, 5, 10}% × RTT {10, 100} ms,
 * bytes per second of virtual time, the median of 3 seeds per cell. Modelled on smoltcp's netsim
 * (tests/netsim.rs: both buffers the same size, half the RTT as one-way latency, no bandwidth limit).
 */
import { runBulk } from "../test/helpers/bulk.js";

export interface GoodputCell { bufferBytes: number; loss: number; rttMs: number; bytesPerSec: number; seeds: number[]; runs: number[] }

export function goodputCell(bufferBytes: number, loss: number, rttMs: number, seeds = [1, 2, 3]): GoodputCell {
  const runs: number[] = [];
  const bytes = bufferBytes >= 32768 ? 4 << 20 : bufferBytes >= 4096 ? 1 << 20 : 256 << 10;
  for (const seed of seeds) {
    const r = runBulk({
      seed, up: bytes, down: 0,
      faults: { loss, delayMs: rttMs / 2 },
      readChunk: 65536,
      stack: { sendBufBytes: bufferBytes, recvBufBytes: bufferBytes, mss: Math.min(1460, bufferBytes >> 1) },
    });
    if (!r.upOk) throw new Error(`goodput run failed: buffer ${bufferBytes} loss ${loss} rtt ${rttMs} seed ${seed}`);
    // Time from the connect (t = 1 ms) to the last byte received: the run's end includes the close.
    runs.push(bytes / ((r.lastDataMs - 1) / 1000));
  }
  const sorted = [...runs].sort((a, b) => a - b);
  return { bufferBytes, loss, rttMs, bytesPerSec: sorted[1] ?? sorted[0], seeds, runs };
}

export function goodputTable(): GoodputCell[] {
  const cells: GoodputCell[] = [];
  for (const rtt of [10, 100]) for (const buf of [1024, 4096, 32768]) for (const loss of [0, 0.01, 0.05, 0.1]) {
    cells.push(goodputCell(buf, loss, rtt));
  }
  return cells;
}
