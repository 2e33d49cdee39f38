/**
 * ECMA-419 3rd edition socket classes as this stack implements them (src/socket/tcp.ts,
 * src/socket/listener.ts). Ambient modules for app code built with Moddable's mcconfig; use instead
 * of (not beside) @moddable/typings' embedded_io/socket/{tcp,listener}.d.ts, which predate the 3rd
 * edition (no `noDelay`/`keepAlive`, `write()` returning void, `read(buffer)` returning void).
 *
 * Differences from the spec text, as in Moddable's lwIP sockets: `nodelay` is accepted beside
 * `noDelay`; `write()` throws Error("not ready") before the connection is established (wait for the
 * first onWritable) and Error("would block") when the data does not fit (nothing is written).
 * `target` is typed `unknown` (narrow it in the callback). The `stack`/`clock` options of the
 * TypeScript classes are for host tests and are not declared here.
 */

declare module "embedded:io/socket/tcp" {
  /** Byte Buffer (ECMA-419): ArrayBuffer, SharedArrayBuffer, any typed array or DataView. */
  export type ByteBuffer = ArrayBufferLike | ArrayBufferView;
  export type Format = "buffer" | "number";

  interface CommonOptions {
    /** Disable Nagle's algorithm (ECMA-419 spelling). */
    noDelay?: boolean;
    /** Disable Nagle's algorithm (Moddable spelling). */
    nodelay?: boolean;
    /** Keepalive idle time in ms (positive integer); absent = off. */
    keepAlive?: number;
    /** bytes: total readable. Called once per arrival. */
    onReadable?: ((this: TCP, bytes: number) => void) | null;
    /** bytes: total writable. First called when the connection is established. */
    onWritable?: ((this: TCP, bytes: number) => void) | null;
    /** The connection ended (peer FIN, reset, refused, timeout), after all received data was read. */
    onError?: ((this: TCP) => void) | null;
    /** Default "buffer". */
    format?: Format;
    /** Copied to the instance's `target`. */
    target?: unknown;
  }

  /** Connect to address:port, or to host:port (the name is resolved first; a failure calls onError). */
  export interface ConnectOptions extends CommonOptions {
    address: string;
    host?: string;
    /** 1..65535 */
    port: number;
    from?: undefined;
  }

  /** Adopt a connection from Listener.read() (or another TCP instance, which is closed). */
  export interface FromOptions extends CommonOptions {
    from: TCP;
    address?: string;
    host?: string;
    port?: number;
  }

  export type Options = ConnectOptions | FromOptions;

  export interface WriteOptions {
    /** More data follows: hold this data for the next segment. Default false. */
    more?: boolean;
    /** Total bytes of the more:true ... more:false run. */
    byteLength?: number;
  }

  export default class TCP {
    constructor(options: Options);
    /** Remote IPv4 address, dotted quad (undefined after close). */
    readonly remoteAddress: string | undefined;
    readonly remotePort: number | undefined;
    target?: unknown;
    format: Format;
    /** "buffer": all readable bytes as a new ArrayBuffer; "number": one byte. undefined when none. */
    read(): ArrayBuffer | number | undefined;
    /** At most count bytes (a positive integer), clamped to what is readable. */
    read(count: number): ArrayBuffer | undefined;
    /** Fill buffer; returns the byte count, undefined when nothing is readable. */
    read(buffer: ByteBuffer): number | undefined;
    /** All or nothing (throws when it does not fit). Returns the writable byte count. */
    write(data: ByteBuffer | number, options?: WriteOptions): number;
    /** Graceful: every byte written is delivered, then FIN. */
    close(): void;
  }
}

declare module "embedded:io/socket/listener" {
  import type TCP from "embedded:io/socket/tcp";

  export interface Options {
    /** 0..65535; default 0 = a free port (read it back from `port`). */
    port?: number;
    /** Checked, otherwise ignored. */
    address?: string;
    /** requests: connections ready to read. */
    onReadable?: ((this: Listener, requests: number) => void) | null;
    onError?: ((this: Listener) => void) | null;
    format?: "socket/tcp";
    target?: unknown;
    /** Connections waiting to be read (incl. half-open). Default 4. */
    backlog?: number;
  }

  export default class Listener {
    constructor(options: Options);
    /** The port listened on. */
    readonly port: number;
    target?: unknown;
    format: "socket/tcp";
    /** A connected TCP with no callbacks (adopt with new TCP({from})), or undefined. */
    read(): TCP | undefined;
    /** Stop listening; connections not yet read are reset. */
    close(): void;
  }
}
