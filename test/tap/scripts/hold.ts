/**
 * Inside a fresh namespace: open tap0, bring it up, start a background peer, print the namespace id
 * and "READY", then wait to be killed (bounded by the lifetime). Used by the cleanup test.
 */
import { TapDriver } from "../../../host-sim/tap.js";
import { currentNetns, enterNetns, report, setupNamespace, startPeer, tapUp } from "../../../host-sim/netns.js";

enterNetns(20_000);
setupNamespace();
const tap = new TapDriver({ name: "tap0" });
tap.attach({ input: () => undefined, poll: () => Infinity });
tapUp("tap0", "192.0.2.1/24");
const peer = startPeer("socat -u UDP-RECV:9,bind=192.0.2.1 /dev/null", { lifetimeMs: 20_000 });
report({ netns: currentNetns(), peerPid: peer.proc.pid, pid: process.pid });
process.stdout.write("READY\n");
