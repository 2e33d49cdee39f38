/**
 * The Driver: the only contract between the stack and the outside world (DESIGN.md §3).
 *
 * Implemented by hw/esp32 (EMAC, Wi-Fi STA), host-sim (SimNetwork, TapDriver) and the scripted peer
 * used by the tests. The stack never reads a clock or sets a timer; it only calls these members.
 */
export interface Driver {
  /** Our Ethernet address, 6 bytes. Read once at stack creation. */
  readonly mac: Uint8Array;
  /** IP MTU in bytes, normally 1500. The stack never sends an IP packet larger than this. */
  readonly mtu: number;
  /**
   * Send one Ethernet frame: `frame[0 .. length)`, starting with the destination MAC, no FCS.
   * The driver copies the bytes before returning: the stack reuses `frame` at once.
   * Returns false when there is no room now; the stack counts it and its protocols retry.
   */
  transmit(frame: Uint8Array, length: number): boolean;
  /** Fill `into` with unpredictable bytes (esp_fill_random, crypto, or a seeded PRNG in the sim). */
  random(into: Uint8Array): void;
  /** Optional link state; link loss is reported here, never thrown. Absent means "up". */
  readonly linkUp?: boolean;
}
