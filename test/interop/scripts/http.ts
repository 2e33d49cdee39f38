/**
 * HTTP against the kernel (inside a fresh namespace; see test/interop/interop.test.ts).
 *   curl   — curl fetches /bytes/N from our HTTP server (netsim --serve http:80)
 *   client — our HTTP client (netsim --get) fetches a file from `python3 -m http.server`
 * argv: CASE [BYTES]
 */
import { mkdirSync } from "node:fs";
import { netnsMain, report, setupNamespace, shAsync, startPeer } from "../../../host-sim/netns.js";
import { patternSha } from "../../../host-sim/tap-cli.js";
import { closeSession, judge, KERNEL_IP, openSession, OUR_IP, sha256File, waitListening, workFile, writePatternFile } from "./lib.js";

netnsMain(async () => {
  const kase = process.argv[2] ?? "curl";
  const bytes = Number(process.argv[3] ?? 4 << 20);
  setupNamespace();
  if (kase === "curl") {
    const ownPcap = workFile("netsim-side.pcap");
    const s = await openSession("http-curl", ["--preset", "throughput", "--serve", "http:80", "--pcap", ownPcap]);
    const out = workFile("curl.out");
    const curl = await shAsync(`curl -sS --max-time 20 -o ${out} -w '%{http_code} %{size_download} %{time_total}' http://${OUR_IP}:80/bytes/${bytes}`, 25_000);
    const facts = await closeSession(s);
    const [code, size, time] = curl.stdout.trim().split(" ");
    report({
      case: kase, bytes, expectedSha256: patternSha(bytes), got: sha256File(out),
      curl: { exit: curl.code, httpCode: Number(code), size: Number(size), seconds: Number(time), stderr: curl.stderr.trim() },
      ...facts,
      // netsim --pcap: the stack's own view, judged like the kernel-side capture.
      ownPcap: judge(ownPcap),
    });
  } else if (kase === "client") {
    const www = workFile("www");
    mkdirSync(www, { recursive: true });
    const sha = writePatternFile(`${www}/file.bin`, bytes);
    const s = await openSession("http-client", ["--preset", "throughput", "--get", `http://${KERNEL_IP}:8000/file.bin`]);
    const py = startPeer(`python3 -u -m http.server 8000 --bind ${KERNEL_IP} --directory ${www}`, { lifetimeMs: 40_000, readyPattern: /Serving HTTP/, readyTimeoutMs: 10_000 });
    await py.ready;
    const listening = await waitListening(8000);
    s.netsim.release();
    const done = await s.netsim.tasksDone(30_000);
    const facts = await closeSession(s);
    await py.stop();
    report({ case: kase, bytes, expectedSha256: sha, listening, done, server: py.stderr.slice(-2000), ...facts });
  } else throw new Error(`unknown case ${kase}`);
}, 80_000);
