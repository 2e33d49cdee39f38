/**
 * Node module customization hooks (registered by host-sim/loader.ts with module.register): the
 * ECMA-419 specifiers Moddable apps import resolve to this stack's classes, so an app written for
 * Moddable runs unchanged under netsim.
 *
 *   embedded:io/socket/tcp       -> default export TCP       (src/socket/tcp.ts)
 *   embedded:io/socket/listener  -> default export Listener  (src/socket/listener.ts)
 *   embedded:io/socket/udp       -> default export UDP       (src/socket/udp.ts)
 *
 * Each specifier resolves to a tiny generated module (`netsim-embedded:` URL) that re-exports the class
 * from the same file the host imports, so the app's classes share the host's default-stack registry
 * (setDefaultStack). Every other specifier goes to the next resolver unchanged.
 */
import type { LoadHook, ResolveHook } from "node:module";

const SCHEME = "netsim-embedded:";

/** specifier -> [module relative to this file (dist/host-sim/), exported class]. */
export const EMBEDDED: { readonly [specifier: string]: readonly [string, string] } = {
  "embedded:io/socket/tcp": ["../src/socket/tcp.js", "TCP"],
  "embedded:io/socket/listener": ["../src/socket/listener.js", "Listener"],
  "embedded:io/socket/udp": ["../src/socket/udp.js", "UDP"],
};

export const resolve: ResolveHook = (specifier, context, nextResolve) => {
  if (Object.prototype.hasOwnProperty.call(EMBEDDED, specifier)) {
    return { url: SCHEME + specifier.slice("embedded:".length), format: "module", shortCircuit: true };
  }
  return nextResolve(specifier, context);
};

export const load: LoadHook = (url, context, nextLoad) => {
  if (url.startsWith(SCHEME)) {
    const entry = EMBEDDED["embedded:" + url.slice(SCHEME.length)];
    if (entry === undefined) throw new Error(`netsim loader: no module for ${url}`);
    const file = new URL(entry[0], import.meta.url).href;
    return { format: "module", source: `export { ${entry[1]} as default } from ${JSON.stringify(file)};\n`, shortCircuit: true };
  }
  return nextLoad(url, context);
};
