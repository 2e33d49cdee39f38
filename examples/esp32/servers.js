/**
 * The example's servers, written only against ECMA-419 (embedded:io/socket/listener and /tcp), as any
 * Moddable app would be: on the board these specifiers are this stack's classes (manifest.json), in the
 * host test (test/hw/glue.test.ts) the same classes on a simulated network.
 *
 *   port 80: HTTP "hello": answers any request with "hello\n" and closes.
 *   port 7:  echo (RFC 862): sends back every byte it receives, at the pace the peer reads.
 */
import Listener from "embedded:io/socket/listener";
import TCP from "embedded:io/socket/tcp";

const RESPONSE = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n";
const CR = 13, LF = 10;

/**
 * @param {{ httpPort?: number, echoPort?: number, log?: ((text: string) => void) | null }} [options]
 * @returns {{ counts: { http: number, echo: number, echoBytes: number }, close(): void }}
 */
export function startServers(options = {}) {
  const log = options.log ?? null;
  const counts = { http: 0, echo: 0, echoBytes: 0 };
  const response = new Uint8Array(RESPONSE.length);
  for (let i = 0; i < RESPONSE.length; i++) response[i] = RESPONSE.charCodeAt(i);

  const http = new Listener({
    port: options.httpPort ?? 80,
    onReadable(requests) {
      for (let i = 0; i < requests; i++) {
        const from = this.read();
        if (from === undefined) break;
        counts.http++;
        httpConnection(from, response);
      }
    },
  });

  const echo = new Listener({
    port: options.echoPort ?? 7,
    onReadable(requests) {
      for (let i = 0; i < requests; i++) {
        const from = this.read();
        if (from === undefined) break;
        counts.echo++;
        echoConnection(from, counts);
      }
    },
  });

  if (log) log(`listening: http on ${http.port}, echo on ${echo.port}`);
  return {
    counts,
    close() {
      http.close();
      echo.close();
    },
  };
}

/**
 * Read until the blank line that ends the request head, answer, close (graceful: the answer is delivered).
 * @param {TCP} from  the connection Listener.read() returned
 * @param {Uint8Array} response
 */
function httpConnection(from, response) {
  let matched = 0; // bytes of CR LF CR LF seen in a row
  let answered = false;
  new TCP({
    from,
    onReadable(count) {
      const data = this.read(count);
      if (data === undefined || answered) return;
      const bytes = new Uint8Array(data);
      for (let i = 0; i < bytes.length && matched < 4; i++) {
        const b = bytes[i];
        if (b === ((matched & 1) === 0 ? CR : LF)) matched++;
        else matched = b === CR ? 1 : 0;
      }
      if (matched === 4) {
        answered = true;
        this.write(response);
        this.close();
      }
    },
    onError() {
      this.close();
    },
  });
}

/**
 * Echo: move min(readable, writable) bytes whenever either grows (onWritable fires first, on accept).
 * @param {TCP} from  the connection Listener.read() returned
 * @param {{ echoBytes: number }} counts
 */
function echoConnection(from, counts) {
  const state = { readable: 0, writable: 0 };
  new TCP({
    from,
    onReadable(count) {
      state.readable = count;
      pump(this, state, counts);
    },
    onWritable(count) {
      state.writable = count;
      pump(this, state, counts);
    },
    onError() {
      this.close();
    },
  });
}

/**
 * @param {TCP} socket
 * @param {{ readable: number, writable: number }} state
 * @param {{ echoBytes: number }} counts
 */
function pump(socket, state, counts) {
  while (state.readable > 0 && state.writable > 0) {
    const chunk = socket.read(Math.min(state.readable, state.writable));
    if (chunk === undefined) {
      state.readable = 0;
      break;
    }
    state.readable -= chunk.byteLength;
    counts.echoBytes += chunk.byteLength;
    state.writable = socket.write(chunk);
  }
}
