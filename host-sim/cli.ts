#!/usr/bin/env node
/**
 * netsim: run the stack on a simulated network or on a Linux TAP device.
 *
 *   netsim demo [--bytes N] [--loss P] [--delay MS] [--seed S] [--pcap FILE]
 *   netsim tap  --tap NAME --ip A.B.C.D/N [--gw G] [--dhcp] [--serve LIST] ...   (see `netsim tap --help`)
 *   netsim run  MODULE [--peer http|echo] [--seed S] [--bytes N] [--loss P] [--delay MS] [--max-ms MS] [--pcap FILE]
 */
const [cmd, ...rest] = process.argv.slice(2);
const usage = `usage: netsim <command> [options]
  demo   two simulated hosts, a lossy link, a file sent through the ECMA-419 classes (npm start)
  tap    one stack on a Linux TAP device (inside a network namespace), with built-in apps
  run    run an unchanged Moddable-style app module on a simulated stack (run MODULE [--peer http|echo] [--seed S]
         [--bytes N] [--loss P] [--delay MS] [--max-ms MS] [--pcap FILE])
  help   this text`;

async function main(): Promise<number> {
  switch (cmd) {
    case undefined: case "demo": {
      const { runDemo } = await import("./demo.js");
      return runDemo();
    }
    case "tap": {
      const m = await import("./tap-cli.js");
      return m.runTapCli(rest);
    }
    case "run": {
      const m = await import("./run-module.js");
      return m.runModuleCli(rest);
    }
    case "help": case "--help": case "-h":
      console.log(usage);
      return 0;
    default:
      console.error(`netsim: unknown command "${cmd}"\n${usage}`);
      return 2;
  }
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  console.error(`netsim: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
