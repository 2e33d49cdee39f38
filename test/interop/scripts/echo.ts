/**
 * Echo and half-close against the kernel (inside a fresh namespace; see test/interop/echo.test.ts).
 *   socat  — `socat STDIO TCP:us:7 < in > out`: socat half-closes after its input (EOF kernel -> us),
 *            keeps reading; our echo server (netsim --serve echo:7) must echo every byte, then close
 *   nc     — the same with `nc -N` (OpenBSD netcat: shutdown(SHUT_WR) on EOF of its input)
 *   client — our echo client (netsim --echo) against `socat TCP-LISTEN:7007 PIPE` on the kernel side
 * argv: CASE [BYTES]
 */
import { netnsMain, report, setupNamespace, shAsync, startPeer } from "../../../host-sim/netns.js";
import { closeSession, KERNEL_IP, openSession, OUR_IP, sha256File, waitListening, workFile, writeRandomFile } from "./lib.js";

netnsMain(async () => {
  const kase = process.argv[2] ?? "socat";
  const bytes = Number(process.argv[3] ?? 1 << 20);
  setupNamespace();
  if (kase === "socat" || kase === "nc") {
    const input = workFile("in.bin"), output = workFile("out.bin");
    const sha = writeRandomFile(input, bytes, 7);
    const s = await openSession(`echo-${kase}`, ["--preset", process.argv[4] ?? "throughput", "--serve", "echo:7"]);
    const cmd = kase === "socat"
      ? `socat -b 65536 -t 20 -T 20 STDIO TCP:${OUR_IP}:7 < ${input} > ${output}`
      : `nc -N -w 20 ${OUR_IP} 7 < ${input} > ${output}`;
    const t0 = Date.now();
    const peer = await shAsync(cmd, 30_000);
    const seconds = (Date.now() - t0) / 1000;
    const facts = await closeSession(s);
    report({ case: kase, bytes, expectedSha256: sha, got: sha256File(output), peer: { exit: peer.code, stderr: peer.stderr.trim(), seconds }, ...facts });
  } else if (kase === "client") {
    const s = await openSession("echo-client", ["--preset", "throughput", "--echo", `${KERNEL_IP}:7007:${bytes}`]);
    const echo = startPeer(`socat -b 65536 TCP-LISTEN:7007,bind=${KERNEL_IP},reuseaddr PIPE`, { lifetimeMs: 40_000 });
    const listening = await waitListening(7007);
    s.netsim.release();
    const done = await s.netsim.tasksDone(30_000);
    const facts = await closeSession(s);
    await echo.stop();
    report({ case: kase, bytes, listening, done, ...facts });
  } else throw new Error(`unknown case ${kase}`);
}, 80_000);
