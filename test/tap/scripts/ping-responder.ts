/**
 * Inside a fresh namespace: TAP + a hand-written ICMP echo responder at 192.0.2.2; the kernel pings it.
 * argv: [count=3] [interval=0.2]
 */
import { TapDriver } from "../../../host-sim/tap.js";
import { linkStats, neighPermanent, netnsMain, report, setupNamespace, shAsync, tapUp } from "../../../host-sim/netns.js";
import { echoReplyInPlace, ip4 } from "./frames.js";

netnsMain(async () => {
  const count = Number(process.argv[2] ?? 3);
  const interval = process.argv[3] ?? "0.2";
  setupNamespace();
  const tap = new TapDriver({ name: "tap0" });
  const ourIp = ip4("192.0.2.2");
  let requests = 0;
  let others = 0;
  tap.attach({
    input(frame, length) {
      const n = echoReplyInPlace(frame, length, tap.mac, ourIp);
      if (n === 0) {
        others++;
        return;
      }
      requests++;
      tap.transmit(frame, n);
    },
    poll: () => Infinity,
  });
  tapUp("tap0", "192.0.2.1/24"); // after open (peers.md §1)
  neighPermanent("192.0.2.2", "02:00:00:00:00:02");
  const ping = await shAsync(`ping -n -q -c ${count} -i ${interval} -W 1 192.0.2.2`, 5_000 + count * 1_500);
  const m = /(\d+) packets transmitted, (\d+) received/.exec(ping.stdout);
  const stats = linkStats("tap0");
  tap.close();
  report({
    transmitted: m ? Number(m[1]) : -1,
    received: m ? Number(m[2]) : -1,
    pingCode: ping.code,
    pingOutput: summary(ping.stdout + ping.stderr),
    requests,
    others,
    counters: tap.counters(),
    link: stats,
  });
});

/** The last lines of ping's output (statistics), enough for an assertion message. */
function summary(out: string): string {
  return out.trim().split("\n").slice(-4).join("\n");
}
