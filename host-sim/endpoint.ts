/**
 * What the simulator drives: the sans-I/O surface of a Stack (DESIGN.md §2), and nothing else,
 * so host-sim does not depend on the Stack class. Test fakes implement it too.
 */
export interface Endpoint {
  /** One received Ethernet frame `frame[0 .. length)` at time `now` (ms). Must not throw. */
  input(frame: Uint8Array, length: number, now: number): void;
  /** Run due work; return the next absolute deadline in ms (Infinity: only input can wake it). */
  poll(now: number): number;
}
