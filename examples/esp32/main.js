/**
 * Example for the ESP32: this stack on the internal Ethernet (default) or the Wi-Fi station, with an
 * address from DHCP, serving HTTP "hello" on port 80 and echo on port 7. Settings: mc/config (see
 * hw/esp32/settings.ts), e.g. `mcconfig ... netif=wifi ssid=MyNet password=secret`.
 *
 * Every 10 s it traces a line of counters, so a first run on a board shows at a glance whether frames
 * come in (rx), go out (tx), are dropped (drop), and whether connections were accepted.
 */
import config from "mc/config";
import Timer from "timer";
import { start } from "xs-tcpip/hw/esp32/esp32";
import { STAT_RX_ACCEPTED, STAT_RX_DROP_FULL, STAT_TX_FRAMES, STAT_TX_NO_ROOM, STAT_WAKE_FAILURES } from "xs-tcpip/hw/esp32/driver";
import { startServers } from "./servers.js";

/** @param {string} text */
function log(text) {
  trace(text + "\n");
}

const board = start(config, { log });
const servers = startServers({ log });

const stats = new Uint32Array(16);
Timer.repeat(() => {
  board.driver.stats(stats);
  const c = board.stack.counters;
  log(`link ${board.driver.linkUp ? "up" : "down"} rx ${stats[STAT_RX_ACCEPTED]} drop ${stats[STAT_RX_DROP_FULL]} ` +
    `tx ${stats[STAT_TX_FRAMES]} txBusy ${stats[STAT_TX_NO_ROOM]} lostWakes ${stats[STAT_WAKE_FAILURES]} ` +
    `arp ${c.arpInRequests}/${c.arpOutReplies} tcpIn ${c.tcpPassiveOpens} http ${servers.counts.http} ` +
    `echo ${servers.counts.echo}/${servers.counts.echoBytes}B`);
}, 10000);
