/**
 * Counters: MIB names where a MIB has one (RFC 4293 IP-MIB, RFC 4022 TCP-MIB, RFC 4113 UDP-MIB),
 * plus one counter per drop reason so that every dropped frame is accounted for.
 * Plain numeric fields: incrementing them allocates nothing in XS.
 */
export class Counters {
  // Link
  /** Frames handed to input(). */ linkInFrames = 0;
  /** Frames handed to the driver. */ linkOutFrames = 0;
  /** driver.transmit() returned false (no room now). */ linkTxRefused = 0;
  /** Frame shorter than an Ethernet header. */ ethTooShort = 0;
  /** Unicast frame for another MAC. */ ethNotForUs = 0;
  /** EtherType we do not handle (IPv6, VLAN, ...). */ ethUnknownType = 0;

  // ARP
  arpInRequests = 0; arpInReplies = 0; arpOutRequests = 0; arpOutReplies = 0;
  /** Malformed ARP (length, hardware or protocol type). */ arpBad = 0;
  /** Gratuitous ARP for an address we do not cache: ignored. */ arpGratuitousIgnored = 0;
  /** Someone else claims our address. */ arpConflict = 0;
  /** Frames dropped because resolution failed after arpMaxTries. */ arpPendingDropped = 0;
  /** Frames dropped because the pending queue was full. */ arpPendingFull = 0;
  /** Resolution wanted but the cache was full of incomplete entries. */ arpCacheFull = 0;

  // IPv4 (IP-MIB)
  ipInReceives = 0;
  /** Header errors: too short, bad version, bad header length, bad checksum, bad total length. */
  ipInHdrErrors = 0;
  ipInTooShort = 0; ipInBadVersion = 0; ipInBadHlen = 0; ipInBadLen = 0; ipInBadChecksum = 0;
  /** Broadcast/multicast/own/zero source address. */ ipInBadSrc = 0;
  /** Not addressed to us. */ ipInAddrErrors = 0;
  ipInUnknownProtos = 0;
  /** Fragments: counted and dropped (no reassembly). */ ipReasmFails = 0;
  ipInDelivers = 0;
  ipOutRequests = 0;
  /** No address configured or no gateway for an off-link destination. */ ipOutNoRoutes = 0;
  /** Packet larger than the MTU. */ ipOutTooBig = 0;

  // ICMP
  icmpInMsgs = 0; icmpInErrors = 0; icmpInEchos = 0; icmpInEchoReps = 0; icmpInDestUnreachs = 0;
  icmpOutMsgs = 0; icmpOutEchoReps = 0; icmpOutDestUnreachs = 0;
  /** ICMP error not sent because of the rate limit. */ icmpOutRateLimited = 0;
  /** Echo request to a broadcast address: not answered. */ icmpInBroadcastEchoIgnored = 0;

  // TCP (TCP-MIB)
  tcpActiveOpens = 0; tcpPassiveOpens = 0; tcpAttemptFails = 0; tcpEstabResets = 0;
  tcpInSegs = 0; tcpOutSegs = 0; tcpRetransSegs = 0; tcpInErrs = 0; tcpOutRsts = 0;
  tcpInBadLen = 0; tcpInBadChecksum = 0; tcpInBadOptions = 0; tcpInBadPort = 0;
  /** Segment for no connection and no listener (answered with RST unless it was a RST). */ tcpNoPort = 0;
  /** Unacceptable segment (RFC 9293 §3.10.7.4): ACKed and dropped. */ tcpInUnacceptable = 0;
  /** ACK for data not yet sent. */ tcpInAckTooNew = 0;
  /** Old duplicate ACK / below SND.UNA - MAX.SND.WND (RFC 5961 §5). */ tcpInAckTooOld = 0;
  /** RST accepted (exact sequence). */ tcpInRsts = 0;
  /** RST outside the window: dropped. */ tcpInRstOutOfWindow = 0;
  /** In-window but not exact RST, or in-window SYN: challenge ACK sent (RFC 5961). */ tcpChallengeAcks = 0;
  /** Challenge ACK not sent because of the rate limit. */ tcpChallengeAcksSuppressed = 0;
  /** Data beyond the receive window: trimmed. */ tcpInDataTrimmed = 0;
  /** Out-of-order segments stored. */ tcpInOutOfOrder = 0;
  /** Out-of-order segments dropped (no room in the range table). */ tcpInOutOfOrderDropped = 0;
  /** SYN to a listener whose queue was full / no Tcb free. */ tcpListenDrops = 0;
  /** SYN arriving when no connection block is free. */ tcpNoTcb = 0;
  tcpSynRetrans = 0; tcpTimeouts = 0; tcpFastRetrans = 0; tcpPersistProbes = 0; tcpKeepAliveProbes = 0;
  tcpKeepAliveDrops = 0; tcpDelayedAcks = 0; tcpTimeWaitRecycled = 0; tcpTimeWaitFull = 0;
  tcpTimeWaitRsts = 0; tcpPawsDrops = 0; tcpSynCookiesSent = 0; tcpSynCookiesOk = 0; tcpSynCookiesFailed = 0;
  tcpOutNoRoom = 0;

  // UDP (UDP-MIB)
  udpInDatagrams = 0; udpNoPorts = 0; udpInErrors = 0; udpOutDatagrams = 0;
  udpInBadChecksum = 0; udpInBadLen = 0; udpInQueueFull = 0;
  /** Datagram larger than a socket's whole queue (udpQueueBytes): dropped. */ udpInTooBig = 0;
  /** Datagram not sent: no route, no ARP room, or the driver refused it. */ udpOutErrors = 0;

  // DHCP client (RFC 2131; no MIB)
  dhcpOutDiscovers = 0; dhcpOutRequests = 0; dhcpOutDeclines = 0; dhcpOutReleases = 0;
  dhcpInOffers = 0; dhcpInAcks = 0; dhcpInNaks = 0;
  /** Retransmitted DISCOVER/REQUEST. */ dhcpRetransmits = 0;
  /** Not a BOOTREPLY for us: wrong op, xid or client hardware address. */ dhcpInNotOurs = 0;
  /** Too short, bad magic cookie, bad htype/hlen, options running past the end. */ dhcpInMalformed = 0;
  /** Option with an impossible value (mask, lease, address, missing server id). */ dhcpInBadOptions = 0;
  /** Valid message not expected in the current state, or from another server. */ dhcpInUnexpected = 0;
  /** Source port is not 67. */ dhcpInBadPort = 0;
  /** The offered address answered our ARP probe: DECLINE sent. */ dhcpConflicts = 0;
  /** Leases obtained (INIT -> BOUND) and renewed/rebound. */ dhcpLeasesAcquired = 0; dhcpLeasesRenewed = 0;
  /** Leases lost: expiry, NAK while bound, or conflict. */ dhcpLeasesLost = 0;

  // DNS resolver (RFC 1035; no MIB)
  dnsOutQueries = 0;
  /** Queries sent again after a timeout. */ dnsRetransmits = 0;
  /** Responses accepted (the ID, server and question matched). */ dnsInResponses = 0;
  /** Response ID matches no outstanding query. */ dnsInBadId = 0;
  /** Source address or port is not the server asked. */ dnsInWrongSource = 0;
  /** Header, question or record runs past the end, or a bad label. */ dnsInMalformed = 0;
  /** Compression pointer forward, into the header, in a loop or past the end. */ dnsInBadPointer = 0;
  /** Not a response, wrong opcode, or the question differs from ours. */ dnsInMismatch = 0;
  /** TC bit set (no TCP fallback): the answer is used if complete, else the query fails. */ dnsInTruncated = 0;
  /** RCODE SERVFAIL, REFUSED, ...: the next server is tried. */ dnsInServerErrors = 0;
  /** NXDOMAIN, or NOERROR without an A record. */ dnsNotFound = 0;
  /** Queries that failed after every retry. */ dnsTimeouts = 0;
  dnsCacheHits = 0; dnsCacheMisses = 0;
  /** A live entry was replaced because the cache was full. */ dnsCacheEvictions = 0;
  /** resolve() found every query slot busy. */ dnsQueryTableFull = 0;

  /** Reset every counter to zero. */
  reset(): void {
    const self = this as unknown as Record<string, number>;
    for (const k of Object.keys(this)) self[k] = 0;
  }
}

/** Counter names in declaration order (for the console and the tests). */
export function counterNames(c: Counters): string[] {
  return Object.keys(c);
}
