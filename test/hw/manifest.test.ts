/**
 * The Moddable manifests, checked without the Moddable SDK: manifest.json (the example) includes
 * hw/esp32/manifest.json (the stack), which must be what hw/manifest-gen.ts makes of src/. Every module
 * path exists; every src module is mapped as xs-tcpip/<path> and preloaded; embedded:io/socket/* lead
 * to src/socket/*; Moddable's lwIP sockets are excluded; every import of every module resolves, by
 * XS's own rules (xs/platforms/mc/xsHosts.c fxFindModule), to a module of the map or a Moddable
 * built-in; the modules type-check as mcconfig would compile them; preloading is safe; the creation
 * sizes fit the configured preset.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import ts from "typescript";
import {
  C_SOURCES, EXCLUDED, HW_MODULES, LIBRARY_MANIFEST, libraryManifestText, PREFIX, SOCKETS, srcModules,
} from "../../hw/manifest-gen.js";
import { boardSettings } from "../../hw/esp32/settings.js";
import { Stack } from "../../src/stack.js";
import { REPO_ROOT } from "../helpers/xs.js";

interface Manifest {
  include?: string | string[];
  modules?: Record<string, string | string[]>;
  preload?: string[];
  config?: Record<string, unknown>;
  creation?: { static?: number; chunk?: { initial: number; incremental?: number }; heap?: { initial: number; incremental?: number }; stack?: number };
  build?: Record<string, string>;
  platforms?: Record<string, { dependency?: { idf?: string }[]; error?: string }>;
}

const read = (rel: string): Manifest => JSON.parse(readFileSync(path.join(REPO_ROOT, rel), "utf8")) as Manifest;
const ROOT_MANIFEST = "manifest.json";
const TARGETS = ["hw/esp32/targets/wt32_eth01", "hw/esp32/targets/ethernet_kit"];
/** Modules the Moddable SDK provides on the esp32 platform (manifest_base / build/devices/esp32). */
const MODDABLE_BUILTINS = new Set(["timer", "time", "mc/config"]);

/** One module of the merged map: its name (specifier) and its source file. */
interface Module { name: string; file: string }

/** Files a manifest source path can stand for (no extension in manifests). */
function candidates(dir: string, source: string): string[] {
  const base = path.resolve(dir, source);
  return [".ts", ".js", ".c", ".h"].map((e) => base + e).filter((f) => existsSync(f));
}

/** The JS/TS modules of manifest.json + hw/esp32/manifest.json, as mcconfig would name them. */
function mergedModules(): Module[] {
  const out: Module[] = [];
  for (const rel of [LIBRARY_MANIFEST, ROOT_MANIFEST]) {
    const dir = path.dirname(path.join(REPO_ROOT, rel));
    for (const [target, sources] of Object.entries(read(rel).modules ?? {})) {
      if (target === "~") continue;
      for (const source of ([] as string[]).concat(sources)) {
        for (const file of candidates(dir, source)) {
          if (!file.endsWith(".ts") && !file.endsWith(".js")) continue;
          const name = target === "*" ? path.basename(file).replace(/\.(ts|js)$/, "") : target;
          out.push({ name, file });
        }
      }
    }
  }
  return out;
}

/** XS's module resolution for the mc platform (fxFindModule): relative to the referrer's name, ".js" dropped. */
export function xsResolve(referrer: string, specifier: string): string | null {
  let name = specifier.startsWith("moddable:") ? specifier.slice(9) : specifier;
  const last = name.lastIndexOf("/");
  const dot = name.lastIndexOf(".");
  if (dot > last && (name.slice(dot) === ".js" || name.slice(dot) === ".mjs")) name = name.slice(0, dot);
  let dots = 0;
  let i = 0;
  if (name.startsWith("./")) { dots = 1; i = 1; }
  else if (name.startsWith("../")) {
    dots = 2; i = 2;
    while (name.startsWith("../", i + 1)) { dots++; i += 3; }
  }
  if (dots === 0) return name;
  let buffer = "/" + referrer;
  for (let k = 0; k < dots; k++) {
    const slash = buffer.lastIndexOf("/");
    if (slash < 0) return null;
    buffer = buffer.slice(0, slash);
  }
  return (buffer + name.slice(i)).slice(1);
}

/** Value imports of a module (type-only imports are erased by the TypeScript compile mcconfig runs). */
function runtimeImports(file: string): string[] {
  let text = readFileSync(file, "utf8");
  if (file.endsWith(".ts")) {
    text = ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.Preserve, target: ts.ScriptTarget.ES2022 }, fileName: file }).outputText;
  }
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

describe("manifest.json and hw/esp32/manifest.json (Moddable build of the stack and the example)", () => {
  const lib = read(LIBRARY_MANIFEST);
  const root = read(ROOT_MANIFEST);

  it("hw/esp32/manifest.json is what hw/manifest-gen.ts makes of src/ (run node dist/hw/manifest-gen.js --write)", () => {
    const want = libraryManifestText(REPO_ROOT);
    const have = readFileSync(path.join(REPO_ROOT, LIBRARY_MANIFEST), "utf8");
    assert.equal(have, want, `${LIBRARY_MANIFEST} is stale: npm run build && node dist/hw/manifest-gen.js --write`);
  });

  it("the example's manifest includes Moddable's base manifest and the stack's, and builds main", () => {
    const include = ([] as string[]).concat(root.include ?? []);
    assert.deepEqual(include, ["$(MODDABLE)/examples/manifest_base.json", "./hw/esp32/manifest.json"]);
    assert.deepEqual(root.modules?.["*"], ["./examples/esp32/main", "./examples/esp32/servers"]);
    assert.ok(root.platforms?.["..."]?.error, "other platforms fail with a message");
  });

  it("every module path in the manifests exists (src modules as .ts, C with its header)", () => {
    for (const rel of [ROOT_MANIFEST, LIBRARY_MANIFEST]) {
      const dir = path.dirname(path.join(REPO_ROOT, rel));
      for (const [target, sources] of Object.entries(read(rel).modules ?? {})) {
        if (target === "~") continue;
        for (const source of ([] as string[]).concat(sources)) {
          const found = candidates(dir, source);
          assert.ok(found.length > 0, `${rel}: "${target}": ${source} matches no file`);
          if (target.startsWith(PREFIX + "src/")) {
            assert.deepEqual(found.map((f) => path.relative(REPO_ROOT, f)), [`${target.slice(PREFIX.length)}.ts`], `${target}: one .ts under src/`);
          }
        }
      }
    }
    for (const c of C_SOURCES) assert.ok(existsSync(path.join(REPO_ROOT, "hw/esp32", `${c}.c`)), `${c}.c`);
    const cOnDisk = readdirSync(path.join(REPO_ROOT, "hw/esp32")).filter((f) => f.endsWith(".c")).map((f) => f.slice(0, -2)).sort();
    assert.deepEqual(cOnDisk, [...C_SOURCES].sort(), "every hw/esp32/*.c is built into the firmware");
  });

  it("every src/ module is mapped as xs-tcpip/<path> and preloaded, with the ESP32 glue and the sockets", () => {
    const modules = lib.modules ?? {};
    const preload = new Set(lib.preload ?? []);
    const src = srcModules(REPO_ROOT);
    assert.ok(src.includes("src/stack") && src.includes("src/socket/tcp") && src.length > 20, "src/ was walked");
    for (const m of src) {
      assert.equal(modules[PREFIX + m], `../../${m}`, `${m} mapped`);
      assert.ok(preload.has(PREFIX + m), `${m} preloaded`);
    }
    for (const m of HW_MODULES) assert.ok(preload.has(`${PREFIX}hw/esp32/${m}`), `hw/esp32/${m} preloaded`);
    for (const s of Object.keys(SOCKETS)) assert.ok(preload.has(s), `${s} preloaded`);
    assert.ok(!preload.has("main"), "the app's main is not preloaded (it runs at boot)");
    assert.equal(preload.size, (lib.preload ?? []).length, "no duplicates");
  });

  it("embedded:io/socket/{tcp,listener,udp} are this stack's classes: a re-export of src/socket/*", () => {
    const modules = lib.modules ?? {};
    for (const [specifier, s] of Object.entries(SOCKETS)) {
      assert.equal(modules[specifier], s.shim, specifier);
      const shim = readFileSync(path.join(REPO_ROOT, "hw/esp32", `${s.shim}.js`), "utf8");
      const target = `${PREFIX}${s.src}`;
      assert.match(shim, new RegExp(`export \\{ ${s.exportName} as default \\} from "${target}";`), `${specifier} re-exports ${target}`);
      assert.equal(modules[target], `../../${s.src}`);
      const src = readFileSync(path.join(REPO_ROOT, `${s.src}.ts`), "utf8");
      assert.match(src, new RegExp(`export class ${s.exportName}\\b`), `${s.src}.ts exports class ${s.exportName}`);
    }
  });

  it("Moddable's lwIP sockets (and the setup modules that start lwIP's network) are excluded with \"~\"", () => {
    const excluded = ([] as string[]).concat(lib.modules?.["~"] ?? []);
    for (const p of ["$(MODDABLE)/modules/io/socket/lwip/tcp", "$(MODDABLE)/modules/io/socket/lwip/udp", "$(MODDABLE)/modules/io/socket/lwip/listener"]) {
      assert.ok(excluded.includes(p), p);
    }
    assert.deepEqual(excluded, [...EXCLUDED]);
  });

  it("TypeScript options merged into mcconfig's tsconfig are real compiler options (es2022 target and lib)", () => {
    const options = (lib as { typescript?: { tsconfig?: { compilerOptions?: Record<string, unknown> } } }).typescript?.tsconfig?.compilerOptions ?? {};
    assert.deepEqual(options, { target: "es2022", lib: ["es2022"] });
    const { errors } = ts.convertCompilerOptionsFromJson(options, REPO_ROOT);
    assert.deepEqual(errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, "\n")), []);
  });

  it("ESP-IDF components: esp_eth (the EMAC driver without the netif glue) and esp_wifi", () => {
    const deps = (lib.platforms?.esp32?.dependency ?? []).map((d) => d.idf);
    assert.ok(deps.includes("esp_eth") && deps.includes("esp_wifi"), String(deps));
  });

  it("every import of every module resolves by XS's rules to a module of the map or a Moddable built-in", () => {
    const modules = mergedModules();
    const names = new Set(modules.map((m) => m.name));
    assert.ok(names.has("main") && names.has("servers") && names.has("embedded:io/socket/tcp") && names.has(`${PREFIX}src/stack`));
    const problems: string[] = [];
    let checked = 0;
    for (const m of modules) {
      for (const spec of runtimeImports(m.file)) {
        const to = xsResolve(m.name, spec);
        checked++;
        if (to === null || (!names.has(to) && !MODDABLE_BUILTINS.has(to))) {
          problems.push(`${m.name} (${path.relative(REPO_ROOT, m.file)}): "${spec}" -> ${to === null ? "unresolvable" : `"${to}", not in the manifest`}`);
        }
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(checked > 50, `checked ${checked} imports`);
    // The resolver itself, on the cases that matter here (xsHosts.c fxFindModule):
    assert.equal(xsResolve(`${PREFIX}src/socket/tcp`, "../stack.js"), `${PREFIX}src/stack`);
    assert.equal(xsResolve(`${PREFIX}hw/esp32/board`, "../../src/stack.js"), `${PREFIX}src/stack`);
    assert.equal(xsResolve("embedded:io/socket/tcp", "../stack.js"), "embedded:io/stack", "why the sockets are re-exports");
    assert.equal(xsResolve("main", "./servers.js"), "servers");
    assert.equal(xsResolve("main", "../x.js"), null);
  });

  it("the modules type-check as mcconfig compiles them (module preserve, es2022, paths from the manifest)", function () {
    this.timeout(120000);
    const modules = mergedModules();
    const paths: Record<string, string[]> = {};
    for (const m of modules) paths[m.name] = [m.file.replace(/\.(ts|js)$/, "")];
    const dir = mkdtempSync(path.join(tmpdir(), "xstcp-mcconfig-"));
    try {
      const tsconfig = {
        compilerOptions: {
          module: "preserve", moduleResolution: "bundler", target: "es2022", lib: ["es2022"], types: [],
          strict: true, allowJs: true, checkJs: true, noEmit: true, skipLibCheck: true, resolveJsonModule: true,
          forceConsistentCasingInFileNames: true, paths,
        },
        files: [path.join(REPO_ROOT, "hw/esp32/types/moddable-host.d.ts"), ...modules.map((m) => m.file)],
      };
      writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
      try {
        execFileSync(process.execPath, [path.join(REPO_ROOT, "node_modules/typescript/bin/tsc"), "-p", path.join(dir, "tsconfig.json")], { encoding: "utf8" });
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string };
        assert.fail(`tsc reported errors:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("preloading is safe: no module-level typed array is written, no static class field is assigned", () => {
    // Preloaded modules run at build time; their typed arrays live in flash (writes throw TypeError) and
    // the linker freezes every function, so static properties become read-only (research/moddable.md b).
    const problems: string[] = [];
    for (const m of mergedModules()) {
      if (m.name === "main" || m.name === "servers") continue;
      const text = readFileSync(m.file, "utf8");
      for (const [, name] of text.matchAll(/^(?:export )?const (\w+)\s*(?::[^=]+)?=\s*new (?:Uint8|Int8|Uint16|Int16|Uint32|Int32|Float32|Float64)Array\(/gm)) {
        const write = new RegExp(`\\b${name}\\s*\\[[^\\]]+\\]\\s*(?:=(?!=)|\\+=|-=|\\|=|&=|\\+\\+|--)|\\b${name}\\.(?:set|fill|copyWithin|sort|reverse)\\(`);
        if (write.test(text)) problems.push(`${path.relative(REPO_ROOT, m.file)}: module-level ${name} is written`);
      }
      for (const [, cls, field] of text.matchAll(/class (\w+)[\s\S]*?static (?!readonly)(?:#)?(\w+)\s*(?::[^=;]+)?=/g)) {
        if (new RegExp(`\\b${cls}\\.${field}\\s*(?:=(?!=)|\\+=|-=|\\+\\+|--)`).test(text)) problems.push(`${path.relative(REPO_ROOT, m.file)}: static ${cls}.${field} is assigned`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it("XS creation sizes fit the configured preset: the arena (one ArrayBuffer) fits in one chunk block", () => {
    const preset = boardSettings(root.config ?? {}).preset;
    const arena = Stack.footprint({ preset }).arenaBytes;
    const c = root.creation;
    assert.ok(c?.chunk && c.heap && c.stack, "creation sets chunk, heap and stack");
    assert.ok(c.chunk.initial >= arena + 16384, `chunk ${c.chunk.initial} < arena ${arena} + 16 KB for everything else`);
    assert.ok(c.heap.initial >= 2048 && c.stack >= 384, "at least Moddable's defaults");
    // ESP32 internal RAM is 520 KB, ~300 KB free at app_main; Wi-Fi takes ~40-50 KB: keep XS well below.
    const xsBytes = c.chunk.initial + c.heap.initial * 16 + c.stack * 16;
    assert.ok(xsBytes <= 160 * 1024, `XS reserves ${xsBytes} bytes at boot`);
  });

  it("the board targets: settings valid, sdkconfig enables the EMAC, named subplatform", () => {
    for (const t of TARGETS) {
      const m = read(`${t}/manifest.json`);
      assert.match(m.build?.SUBPLATFORM ?? "", /^xstcp_/, `${t}: SUBPLATFORM`);
      assert.equal(m.build?.SDKCONFIGPATH, "$(SUBPLATFORMDIRECTORY)/sdkconfig");
      const sdk = readFileSync(path.join(REPO_ROOT, t, "sdkconfig/sdkconfig.defaults"), "utf8");
      assert.match(sdk, /^CONFIG_ETH_USE_ESP32_EMAC=y$/m);
      // mcconfig merges the target's config first, then the app's (the app wins key by key).
      const s = boardSettings({ ...m.config, ...root.config });
      assert.equal(s.netif, "ethernet");
      assert.equal(m.include, undefined, `${t} must not include modules/io (it would start lwIP's network)`);
    }
    assert.equal(boardSettings({ ...read(`${TARGETS[1]}/manifest.json`).config }).ethernet.phyReset, 5, "Ethernet-Kit: IP101 reset on GPIO5");
  });
});
