/**
 * ECMA-419 3rd edition UDP socket as this stack implements it (src/socket/udp.ts). An ambient module
 * for app code built with Moddable's mcconfig; use instead of @moddable/typings'
 * embedded_io/socket/udp.d.ts (which needs skipLibCheck and types `read(buffer)` as returning nothing).
 *
 * Moddable's lwIP argument order `write(address, port, data)` is accepted beside the spec's
 * `write(data, address, port)`. Multicast (`add`/`remove`) is not implemented. The `stack`/`clock`
 * options of the TypeScript class are for host tests and are not declared here.
 */
declare module "embedded:io/socket/udp" {
  /** Byte Buffer (ECMA-419): ArrayBuffer, SharedArrayBuffer, any typed array or DataView. */
  export type ByteBuffer = ArrayBufferLike | ArrayBufferView;

  /** A received datagram: its bytes, the sender's address (dotted quad) and port. */
  export type Packet = ArrayBuffer & { address: string; port: number };

  export interface Options {
    /** Local port 0..65535; absent or 0 = an ephemeral port (read it back from `port`). */
    port?: number;
    /** Local address to bind (dotted quad); absent = any. */
    address?: string;
    /** packets: datagrams waiting to be read. Called from the event loop, once per arrival batch. */
    onReadable?: ((this: UDP, packets: number) => void) | null;
    /** Accepted; never called (UDP has no send buffer). */
    onWritable?: ((this: UDP, bytes: number) => void) | null;
    /** Accepted; never called (UDP has no connection to lose). */
    onError?: ((this: UDP) => void) | null;
    format?: "buffer";
    /** Copied to the instance's `target`. */
    target?: unknown;
  }

  export default class UDP {
    constructor(options: Options);
    /** The local port. */
    readonly port: number;
    /** The local address bound to ("0.0.0.0" = any). */
    readonly address: string;
    target?: unknown;
    format: "buffer";
    /** The oldest datagram as a new ArrayBuffer with address/port, or undefined. */
    read(): Packet | undefined;
    /** Copy the oldest datagram into buffer (sets buffer.address/port); its length, or undefined. Throws RangeError if too small. */
    read(buffer: ByteBuffer): number | undefined;
    /** Send one datagram. Throws TypeError/RangeError on bad arguments, Error when it cannot be sent now. */
    write(data: ByteBuffer, address: string, port: number): void;
    /** Moddable's lwIP order. */
    write(address: string, port: number, data: ByteBuffer): void;
    close(): void;
  }
}
