/**
 * Type-check sources against declaration files with the project's tsc, in a scratch project with no
 * Node types (src must be pure ES). Returns tsc's output: "" when everything compiles.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** `declarations`: paths relative to the repository; `sources`: file name -> TypeScript text. */
export function typecheck(declarations: string[], sources: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "typecheck-"));
  try {
    const files = declarations.map((d) => path.join(ROOT, d));
    for (const [name, text] of Object.entries(sources)) {
      writeFileSync(path.join(dir, name), text);
      files.push(path.join(dir, name));
    }
    writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: {
        target: "ES2022", module: "ESNext", moduleResolution: "Bundler", lib: ["ES2022"], types: [],
        strict: true, noEmit: true, skipLibCheck: false, noUnusedLocals: true,
      },
      files,
    }));
    try {
      execFileSync(process.execPath, [path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", dir], { encoding: "utf8" });
      return "";
    } catch (e) {
      return String((e as { stdout?: string }).stdout ?? e);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
