/** `netsim tap`: placeholder until the TAP mode lands. */
export function runTapCli(_args: string[]): number {
  console.error("netsim tap: not available yet");
  return 2;
}
