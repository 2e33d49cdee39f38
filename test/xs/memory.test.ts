/**
 * XS heap figures (real XS, xsnap-worker): a Stack per config preset, one more pooled connection
 * beyond its rings, one open connection (sockets at both ends), one TIME-WAIT record. Printed; the
 * assertions are about structure (what must be zero, what must agree with Stack.footprint), not sizes.
 */
import assert from "node:assert/strict";
import { Stack } from "../../src/stack.js";
import { memoryFigures, type MemoryFigures } from "./figures.js";

describe("XS memory figures", function () {
  this.timeout(120_000);
  let f: MemoryFigures;

  before(async () => {
    f = await memoryFigures();
    const rows = f.stacks.map((s) =>
      `      Stack ${s.preset.padEnd(10)} ${String(s.slots).padStart(5)} slots = ${String(s.slotBytes).padStart(6)} B + chunks ${String(s.chunkBytes).padStart(8)} B ` +
      `(arena ${s.arenaBytes} B) = ${s.totalBytes} B`);
    console.log(rows.join("\n"));
    const p = f.perPooledConnection, o = f.perOpenConnection, t = f.timeWaitRecord;
    console.log(`      one more pooled connection: ${p.slots} slots = ${p.slotBytes} B + ${p.chunkBytesBeyondRings} B chunks beyond its ${p.ringBytes} B of rings`);
    console.log(`      one open connection (both ends' sockets): ${o.slots} slots = ${o.slotBytes} B (${o.perEndSlots} slots per end)`);
    console.log(`      TIME-WAIT record: ${t.slots} slots, ${t.chunkBytes} B`);
  });

  it("every preset: the ArrayBuffers found in XS add up to Stack.footprint()'s arena plus the fixed tables", () => {
    for (const s of f.stacks) {
      const fp = Stack.footprint({ preset: s.preset as "minimal" | "default" | "throughput" });
      assert.equal(s.arenaBytes, fp.arenaBytes, `${s.preset}: arena`);
      assert.ok(s.chunkBytes >= s.arenaBytes && s.chunkBytes < s.arenaBytes + 16384, `${s.preset}: chunks ${s.chunkBytes}`);
      assert.ok(s.slots > 0);
    }
    // Presets differ in buffers, not in objects: the slot counts stay within the object pools' difference.
    const [min, def] = f.stacks;
    assert.ok(min.slots < def.slots, "minimal has fewer connection blocks");
  });

  it("a TIME-WAIT record is typed-array storage only: no slot, at most 64 bytes", () => {
    assert.equal(f.timeWaitRecord.slots, 0);
    assert.ok(f.timeWaitRecord.chunkBytes > 0 && f.timeWaitRecord.chunkBytes <= 64, String(f.timeWaitRecord.chunkBytes));
  });

  it("a pooled connection and an open connection cost a bounded number of slots", () => {
    assert.ok(f.perPooledConnection.slots > 0 && f.perPooledConnection.slots < 400, String(f.perPooledConnection.slots));
    assert.ok(f.perPooledConnection.chunkBytesBeyondRings >= 0);
    assert.ok(f.perOpenConnection.slots > 0 && f.perOpenConnection.slots < 400, String(f.perOpenConnection.slots));
  });
});
