/** `netsim run`: placeholder until the module loader lands. */
export function runModuleCli(_args: string[]): number {
  console.error("netsim run: not available yet");
  return 2;
}
