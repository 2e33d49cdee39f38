/**
 * A scripted DNS server for the simulator (RFC 1035, authoritative for a small zone): A records and
 * CNAMEs, answers compressed with a pointer to the question (0xc00c). Every query is logged.
 * Hostile behaviour: `respond` replaces the whole answer (any bytes, any source), `drop` silences it.
 */
import type { SimNode } from "../../host-sim/simnet.js";
import { parseIp } from "../../src/wire/bytes.js";
import { DNS_HLEN, DNS_PORT, F_AA, F_QR, F_RA, F_RD, RCODE_NXDOMAIN, TYPE_A, TYPE_CNAME } from "../../src/dns/wire.js";
import { type Datagram, type Outgoing, RawHost } from "../udp/raw.js";

export interface Query {
  timeMs: number;
  id: number;
  flags: number;
  /** Lowercase dotted name, no final dot. */
  name: string;
  qtype: number;
  qclass: number;
  src: number;
  sport: number;
  dst: number;
  raw: Uint8Array;
}

export interface Record {
  a?: string;
  cname?: string;
  ttl?: number;
}

/** Uncompressed wire name. */
export function nameBytes(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split(".").filter((l) => l.length > 0)) {
    out.push(label.length);
    for (const ch of label) out.push(ch.charCodeAt(0));
  }
  out.push(0);
  return out;
}

export function u16(v: number): number[] { return [(v >> 8) & 0xff, v & 0xff]; }
export function u32(v: number): number[] { return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]; }
/** A compression pointer to offset `off`. */
export function ptr(off: number): number[] { return [0xc0 | (off >> 8), off & 0xff]; }

/** A resource record: owner name bytes (maybe a pointer), type, class IN, ttl, rdata. */
export function rr(owner: number[], type: number, ttl: number, rdata: number[], cls = 1): number[] {
  return [...owner, ...u16(type), ...u16(cls), ...u32(ttl), ...u16(rdata.length), ...rdata];
}

/** A response: header + the question (copied from the query) + records. */
export function response(q: Query, flags: number, answers: number[][], ancount = answers.length): Uint8Array {
  const qEnd = questionEnd(q.raw);
  const m = [...u16(q.id), ...u16(flags), ...u16(1), ...u16(ancount), 0, 0, 0, 0, ...q.raw.subarray(DNS_HLEN, qEnd)];
  for (const a of answers) m.push(...a);
  return new Uint8Array(m);
}

/** Offset after the question of a query we built (uncompressed name + 4). */
export function questionEnd(m: Uint8Array): number {
  let p = DNS_HLEN;
  while (m[p] !== 0) p += m[p] + 1;
  return p + 5;
}

function decodeName(m: Uint8Array, p: number): string {
  const labels: string[] = [];
  while (p < m.length && m[p] !== 0) {
    labels.push(String.fromCharCode(...m.subarray(p + 1, p + 1 + m[p])));
    p += m[p] + 1;
  }
  return labels.join(".");
}

export class DnsServer extends RawHost {
  readonly ip: number;
  readonly zone = new Map<string, Record>();
  readonly queries: Query[] = [];
  /** Ignore queries while this returns true. */
  drop: ((q: Query) => boolean) | null = null;
  /** Replace the answer: return frames (use `this.reply(d, bytes, {...})`), or null for the normal one. */
  respond: ((q: Query, d: Datagram, srv: DnsServer) => Outgoing[] | null) | null = null;
  /** Delay every answer, ms. */
  delayMs = 0;

  constructor(node: SimNode, ip = "192.0.2.53") {
    const a = parseIp(ip);
    super(node, [a]);
    this.ip = a;
    this.onDatagram = (d) => this.handle(d);
  }

  private handle(d: Datagram): Outgoing[] {
    if (d.dport !== DNS_PORT || d.data.length < DNS_HLEN + 5) return [];
    const m = d.data;
    const q: Query = {
      timeMs: d.timeMs, id: (m[0] << 8) | m[1], flags: (m[2] << 8) | m[3], name: decodeName(m, DNS_HLEN).toLowerCase(),
      qtype: 0, qclass: 0, src: d.src, sport: d.sport, dst: d.dst, raw: m,
    };
    const qe = questionEnd(m);
    q.qtype = (m[qe - 4] << 8) | m[qe - 3];
    q.qclass = (m[qe - 2] << 8) | m[qe - 1];
    this.queries.push(q);
    if (this.drop !== null && this.drop(q)) return [];
    if (this.respond !== null) {
      const r = this.respond(q, d, this);
      if (r !== null) return r;
    }
    return [{ frame: this.reply(d, this.answer(q)), atMs: d.timeMs + this.delayMs }];
  }

  /** The normal answer from the zone (CNAME chain, then the A record). */
  answer(q: Query): Uint8Array {
    const flags = F_QR | F_AA | F_RD | F_RA;
    const answers: number[][] = [];
    let name = q.name;
    let owner = ptr(DNS_HLEN);
    for (let hop = 0; hop < 10; hop++) {
      const r = this.zone.get(name);
      if (r === undefined) break;
      if (r.cname !== undefined) {
        answers.push(rr(owner, TYPE_CNAME, r.ttl ?? 300, nameBytes(r.cname)));
        name = r.cname;
        owner = nameBytes(name);
        continue;
      }
      if (r.a !== undefined && q.qtype === TYPE_A) answers.push(rr(owner, TYPE_A, r.ttl ?? 300, u32(parseIp(r.a))));
      break;
    }
    const known = this.zone.has(q.name);
    return response(q, known ? flags : flags | RCODE_NXDOMAIN, answers);
  }
}
