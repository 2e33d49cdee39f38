/**
 * Parsing the console's text replies (conns, stats) and rendering the `watch` screen as plain
 * lines of a given width and height. Pure: the terminal handling is in watch.ts.
 */

export interface Conn {
  readonly state: string;
  readonly local: string;
  readonly remote: string;
  /** key:value pairs of the line (numbers where they parse). */
  readonly kv: ReadonlyMap<string, string>;
}

/** One `conns` line: "STATE local remote key:value ...". */
export function parseConn(line: string): Conn | null {
  const parts = line.trim().split(/\s+/);
  if (parts.length < 3 || !/^[A-Z][A-Z0-9-]*$/.test(parts[0])) return null;
  const kv = new Map<string, string>();
  for (const p of parts.slice(3)) {
    const i = p.indexOf(":");
    if (i > 0) kv.set(p.slice(0, i), p.slice(i + 1));
  }
  return { state: parts[0], local: parts[1], remote: parts[2], kv };
}

/** `stats` lines: "name value". */
export function parseStats(lines: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) {
    const x = /^(\S+)\s+(-?\d+)$/.exec(l.trim());
    if (x !== null) m.set(x[1], Number(x[2]));
  }
  return m;
}

interface Column {
  readonly title: string;
  readonly width: number;
  /** Lower = kept first when the terminal is narrow. */
  readonly priority: number;
  readonly left?: boolean;
  readonly value: (c: Conn) => string;
}

function num(c: Conn, k: string): number {
  const v = c.kv.get(k);
  return v === undefined ? NaN : Number(v);
}

/** Sequence numbers relative to the initial ones (as Wireshark shows them). */
function rel(c: Conn, k: string, base: string): string {
  const a = num(c, k), b = num(c, base);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return "";
  return String((a - b) >>> 0);
}

function field(k: string): (c: Conn) => string {
  return (c) => c.kv.get(k) ?? "";
}

function bytes(k: string): (c: Conn) => string {
  return (c) => {
    const v = num(c, k);
    if (!Number.isFinite(v)) return "";
    if (v < 100_000) return String(v);
    if (v < 100_000_000) return `${(v / 1024).toFixed(0)}K`;
    return `${(v / 1048576).toFixed(0)}M`;
  };
}

export const COLUMNS: readonly Column[] = [
  { title: "STATE", width: 11, priority: 0, left: true, value: (c) => c.state },
  { title: "LOCAL", width: 21, priority: 1, left: true, value: (c) => c.local },
  { title: "REMOTE", width: 21, priority: 2, left: true, value: (c) => c.remote },
  { title: "SND.UNA", width: 10, priority: 9, value: (c) => rel(c, "sndUna", "iss") },
  { title: "SND.NXT", width: 10, priority: 10, value: (c) => rel(c, "sndNxt", "iss") },
  { title: "RCV.NXT", width: 10, priority: 11, value: (c) => rel(c, "rcvNxt", "irs") },
  { title: "SNDWND", width: 7, priority: 7, value: field("sndWnd") },
  { title: "RCVWND", width: 7, priority: 8, value: field("rcvWnd") },
  { title: "CWND", width: 7, priority: 5, value: field("cwnd") },
  { title: "SSTHRESH", width: 10, priority: 12, value: field("ssthresh") },
  { title: "SRTT", width: 7, priority: 6, value: field("srtt") },
  { title: "RTO", width: 6, priority: 13, value: field("rto") },
  { title: "RTX", width: 5, priority: 4, value: field("rtx") },
  { title: "SACKED", width: 7, priority: 14, value: field("sacked") },
  { title: "BYTES-IN", width: 9, priority: 3, value: bytes("in") },
  { title: "BYTES-OUT", width: 9, priority: 3, value: bytes("out") },
];

/** The columns that fit in `width`, most important first, shown in table order. */
export function fitColumns(width: number): Column[] {
  const byPriority = [...COLUMNS].sort((a, b) => a.priority - b.priority);
  const chosen = new Set<Column>();
  let used = 0;
  for (const c of byPriority) {
    const w = c.width + (chosen.size > 0 ? 1 : 0);
    if (used + w > width) continue;
    chosen.add(c);
    used += w;
  }
  return COLUMNS.filter((c) => chosen.has(c));
}

function cell(s: string, w: number, left: boolean): string {
  if (s.length > w) s = w > 1 ? s.slice(0, w - 1) + "~" : s.slice(0, w);
  return left ? s.padEnd(w) : s.padStart(w);
}

export function tableLines(conns: readonly Conn[], width: number): string[] {
  const cols = fitColumns(width);
  const out = [cols.map((c) => cell(c.title, c.width, c.left === true)).join(" ")];
  for (const conn of conns) out.push(cols.map((c) => cell(c.value(conn), c.width, c.left === true)).join(" "));
  return out;
}

export interface WatchView {
  readonly title: string;
  readonly conns: readonly Conn[];
  readonly stats: ReadonlyMap<string, number>;
  /** Change per second of each counter since the previous refresh (absent: unknown). */
  readonly rates: ReadonlyMap<string, number>;
  readonly status: string;
  /** Shown instead of the status when set (e.g. the device stopped answering). */
  readonly error: string;
}

/** Important counters first; the rest of the non-zero ones follow in device order. */
const KEY_COUNTERS = [
  "tcpInSegs", "tcpOutSegs", "tcpRetransSegs", "tcpFastRetrans", "tcpTimeouts", "tcpActiveOpens", "tcpPassiveOpens",
  "tcpEstabResets", "tcpInErrs", "tcpOutRsts", "linkInFrames", "linkOutFrames", "linkTxRefused", "ipInReceives",
  "ipInDelivers", "ipOutRequests",
];

/** The whole screen: exactly `height` lines, each exactly `width` characters (ASCII). */
export function renderWatch(v: WatchView, width: number, height: number): string[] {
  width = Math.max(20, width);
  height = Math.max(5, height);
  const fit = (s: string): string => (s.length > width ? s.slice(0, width) : s.padEnd(width));
  const lines: string[] = [fit(v.title), fit("")];
  const table = tableLines(v.conns, width);
  // Room: title, blank, table, blank, counters title, >= 1 counter row, status.
  const maxTable = Math.max(2, height - 6);
  if (table.length > maxTable) {
    const hidden = table.length - (maxTable - 1);
    lines.push(...table.slice(0, maxTable - 1).map(fit), fit(`... ${hidden} more connections`));
  } else {
    lines.push(...table.map(fit));
  }
  if (v.conns.length === 0) lines.push(fit("(no connections)"));
  const room = height - lines.length - 3;
  if (room >= 1) {
    lines.push(fit(""), fit("COUNTERS (non-zero; +N/s since last refresh)"));
    const names = [...KEY_COUNTERS.filter((n) => (v.stats.get(n) ?? 0) !== 0)];
    for (const [n, val] of v.stats) if (val !== 0 && !names.includes(n)) names.push(n);
    const cells = names.map((n) => {
      const r = v.rates.get(n);
      const rate = r !== undefined && r !== 0 ? ` +${r >= 10 ? r.toFixed(0) : r.toFixed(1)}/s` : "";
      return `${n} ${v.stats.get(n)}${rate}`;
    });
    const cw = Math.min(width, Math.max(24, ...cells.map((c) => c.length + 2)));
    const perRow = Math.max(1, Math.floor(width / cw));
    const rows = Math.ceil(cells.length / perRow);
    const shown = rows <= room ? rows : room - 1;
    for (let r = 0; r < shown; r++) {
      let s = "";
      for (let k = 0; k < perRow; k++) {
        const c = cells[r * perRow + k];
        if (c !== undefined) s += c.padEnd(cw);
      }
      lines.push(fit(s));
    }
    if (shown < rows) lines.push(fit(`... ${cells.length - shown * perRow} more counters (make the window taller)`));
  }
  while (lines.length < height - 1) lines.push(fit(""));
  lines.length = height - 1;
  lines.push(fit(v.error !== "" ? `! ${v.error}` : v.status));
  return lines;
}
