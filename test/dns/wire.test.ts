/** DNS names on the wire (RFC 1035 §3.1, §4.1.4): encoding, and walking compressed names safely. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  emitQuery, encodeName, NAME_BAD_POINTER, NAME_MALFORMED, NameCursor, namesEqual, skipName, TYPE_A,
} from "../../src/dns/wire.js";
import { check, confined } from "../wire/util.js";
import { nameBytes, ptr } from "./server.js";

/** A message: 12 header bytes then `body`. */
function msg(body: number[]): Uint8Array {
  return new Uint8Array([0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, ...body]);
}

/** Read the name at p label by label; "a.b" or an error code. */
function read(m: Uint8Array, p: number): string | number {
  const c = new NameCursor();
  c.aim(m, 0, m.length, p);
  const labels: string[] = [];
  for (let i = 0; i < 300; i++) {
    const l = c.next();
    if (l < 0) return l;
    if (l === 0) return labels.join(".");
    labels.push(String.fromCharCode(...m.subarray(c.labelAt, c.labelAt + l)));
  }
  throw new Error("the cursor did not stop");
}

describe("dns wire: names", () => {
  it("encodeName: lowercase labels, optional final dot; refuses empty labels, long labels/names, bad characters", () => {
    const b = new Uint8Array(300);
    assert.equal(encodeName("Board.Test", b, 1), 12);
    assert.deepEqual([...b.subarray(1, 13)], nameBytes("board.test"));
    assert.equal(encodeName("board.test.", b, 0), 12);
    assert.equal(encodeName("a_b-c.d", b, 0), 9);
    const l63 = "a".repeat(63);
    assert.equal(encodeName(`${l63}.x`, b, 0), 1 + 63 + 1 + 1 + 1);
    for (const bad of ["", ".", "..", "a..b", ".a", `${l63}a.x`, "a b", "ä.x", "a/b", "a:b", "a.b..", "*.x"]) {
      assert.equal(encodeName(bad, b, 0), -1, JSON.stringify(bad));
    }
    // 253 characters is the longest name (255 bytes encoded); 254 is refused.
    const long = [l63, l63, l63, "a".repeat(61)].join(".");
    assert.equal(long.length, 253);
    assert.equal(encodeName(long, b, 0), 255);
    assert.equal(encodeName(long + "a", b, 0), -1);
    assert.equal(encodeName(long + ".", b, 0), 255);
  });

  it("emitQuery: header with RD, one question, QTYPE A, QCLASS IN", () => {
    const q = new Uint8Array(nameBytes("x.test"));
    const b = new Uint8Array(64);
    const n = emitQuery(b, 2, 0xbeef, q, 0, q.length, TYPE_A);
    assert.deepEqual([...b.subarray(2, 2 + n)], [0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...nameBytes("x.test"), 0, 1, 0, 1]);
  });

  it("follows backward pointers; skipName stops at the pointer", () => {
    const m = msg([...nameBytes("www.example.com"), 3, 0x66, 0x74, 0x70, ...ptr(16), ...ptr(12)]);
    const ftp = 12 + 17;
    assert.equal(read(m, 12), "www.example.com");
    assert.equal(read(m, ftp), "ftp.example.com");
    assert.equal(read(m, ftp + 6), "www.example.com");
    assert.equal(skipName(m, 0, ftp, m.length), ftp + 6);
    assert.equal(skipName(m, 0, 12, m.length), 12 + 17);
  });

  it("refuses pointer loops, forward pointers, pointers into the header or past the end", () => {
    // Self pointer.
    assert.equal(read(msg([...ptr(12)]), 12), NAME_BAD_POINTER);
    // Label then a pointer back to that label: "a.a.a..." forever without the rules.
    assert.equal(read(msg([1, 0x61, ...ptr(12)]), 12), NAME_BAD_POINTER);
    // Two pointers pointing at each other (one of them is forward).
    assert.equal(read(msg([...ptr(14), ...ptr(12)]), 12), NAME_BAD_POINTER);
    assert.equal(read(msg([...ptr(14), ...ptr(12)]), 14), NAME_BAD_POINTER);
    // Forward pointer to a valid name.
    assert.equal(read(msg([...ptr(14), 1, 0x62, 0]), 12), NAME_BAD_POINTER);
    // Into the header, past the end.
    assert.equal(read(msg([...ptr(2)]), 12), NAME_BAD_POINTER);
    assert.equal(read(msg([...ptr(0x3fff)]), 12), NAME_BAD_POINTER);
    // A long chain of backward pointers is cut at MAX_POINTERS.
    const chain: number[] = [0];
    for (let k = 0; k < 40; k++) chain.push(...ptr(12 + (k === 0 ? 0 : 1 + 2 * (k - 1))));
    assert.equal(read(msg(chain), 12 + 1 + 2 * 39), NAME_BAD_POINTER);
    assert.equal(read(msg(chain), 12 + 1 + 2 * 5), "");
  });

  it("refuses truncated labels and pointers, reserved label types, names over 255 bytes", () => {
    assert.equal(read(msg([5, 0x61, 0x62]), 12), NAME_MALFORMED);
    assert.equal(read(msg([1, 0x61]), 12), NAME_MALFORMED, "no root label");
    assert.equal(read(msg([0xc0]), 12), NAME_MALFORMED, "half a pointer");
    assert.equal(read(msg([0x40, 0]), 12), NAME_MALFORMED, "01 label type");
    assert.equal(read(msg([0x80, 0]), 12), NAME_MALFORMED, "10 label type");
    // 5 labels of 63 bytes: 320 bytes, over the limit, even via pointers.
    const big: number[] = [];
    for (let k = 0; k < 5; k++) { big.push(63); for (let i = 0; i < 63; i++) big.push(0x61); }
    big.push(0);
    assert.equal(read(msg(big), 12), NAME_MALFORMED);
    assert.equal(skipName(msg(big), 0, 12, 12 + big.length), NAME_MALFORMED);
    // Length via pointers: 4 x 63 + a pointer to another 63-byte label.
    const viaPtr: number[] = [63, ...new Array(63).fill(0x62), 0];
    for (let k = 0; k < 3; k++) { viaPtr.push(63); for (let i = 0; i < 63; i++) viaPtr.push(0x61); }
    viaPtr.push(63); for (let i = 0; i < 63; i++) viaPtr.push(0x61);
    viaPtr.push(...ptr(12));
    assert.equal(read(msg(viaPtr), 12 + 65), NAME_MALFORMED);
  });

  it("namesEqual: case-insensitive, across compression", () => {
    const m = msg([...nameBytes("WWW.Example.COM"), 3, 0x77, 0x77, 0x77, ...ptr(16)]);
    const q = new Uint8Array(nameBytes("www.example.com"));
    const x = new NameCursor(), y = new NameCursor();
    const eq = (p: number, qq: Uint8Array): number => { x.aim(m, 0, m.length, p); y.aim(qq, 0, qq.length, 0); return namesEqual(x, y); };
    assert.equal(eq(12, q), 1);
    assert.equal(eq(29, q), 1);
    assert.equal(eq(12, new Uint8Array(nameBytes("www.example.co"))), 0);
    assert.equal(eq(12, new Uint8Array(nameBytes("www.example.com.x"))), 0);
    const loop = msg([1, 0x61, ...ptr(12)]);
    x.aim(loop, 0, loop.length, 12);
    y.aim(loop, 0, loop.length, 12);
    assert.equal(namesEqual(x, y), NAME_BAD_POINTER);
  });

  it("random messages: walking any name never throws, never reads outside, always stops", () => {
    check(fc.property(fc.uint8Array({ minLength: 12, maxLength: 200 }), fc.nat(), (m, start) => {
      const p = start % m.length;
      confined(m, (b, at, len) => {
        const c = new NameCursor();
        c.aim(b, at, at + len, at + p);
        const lens: number[] = [];
        for (let i = 0; i < 300; i++) {
          const l = c.next();
          lens.push(l);
          if (l <= 0) { const e = skipName(b, at, at + p, at + len); return [lens, e < 0 ? e : e - at]; }
        }
        throw new Error("did not stop");
      });
    }));
  });
});
