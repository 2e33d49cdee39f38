/**
 * Run Moddable app modules unchanged on the host (DESIGN.md §7): registers the module hooks
 * (host-sim/loader-hooks.ts) that map `embedded:io/socket/{tcp,listener,udp}` to this stack's classes,
 * binds those classes to a stack (the default-stack registry), and provides the XS globals such apps
 * use besides the imports: `trace()`, `ArrayBuffer.fromString()`, `String.fromArrayBuffer()`.
 */
import { register } from "node:module";
import type { Stack } from "../src/stack.js";
import { setDefaultStack } from "../src/socket/default-stack.js";

let registered = false;

/** Register the embedded:io/socket/* hooks once per process (affects imports made after it). */
export function registerEmbeddedLoader(): void {
  if (registered) return;
  register("./loader-hooks.js", import.meta.url);
  registered = true;
}

/** The stack (and its clock) the app's sockets use: they take no `stack` option, as on the device. */
export function bindDefaultStack(stack: Stack, clock: () => number): void {
  setDefaultStack(stack, clock);
}

type ModdableArrayBuffer = ArrayBufferConstructor & { fromString?: (s: string) => ArrayBuffer };
type ModdableString = StringConstructor & { fromArrayBuffer?: (b: ArrayBufferLike) => string };

/**
 * XS's globals, as Moddable defines them: trace(text) writes text as is (no newline added);
 * ArrayBuffer.fromString(s) is s in UTF-8; String.fromArrayBuffer(b) decodes UTF-8.
 */
export function installModdableGlobals(out: (text: string) => void): void {
  const g = globalThis as unknown as { trace?: (text: unknown) => void };
  g.trace = (text: unknown): void => { out(String(text)); };
  const AB = ArrayBuffer as ModdableArrayBuffer;
  if (AB.fromString === undefined) {
    Object.defineProperty(AB, "fromString", {
      value: (s: string): ArrayBuffer => {
        const u = new TextEncoder().encode(String(s));
        const b = new ArrayBuffer(u.length);
        new Uint8Array(b).set(u);
        return b;
      },
      writable: true, configurable: true,
    });
  }
  const S = String as ModdableString;
  if (S.fromArrayBuffer === undefined) {
    Object.defineProperty(S, "fromArrayBuffer", {
      value: (b: ArrayBufferLike): string => new TextDecoder().decode(new Uint8Array(b)),
      writable: true, configurable: true,
    });
  }
}
