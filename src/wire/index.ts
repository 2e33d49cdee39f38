/** src/wire: views and emitters for Ethernet, ARP, IPv4, ICMP, TCP, UDP. */
export * from "./bytes.js";
export * from "./checksum.js";
export * from "./ethernet.js";
export * from "./arp.js";
export * from "./ipv4.js";
export * from "./icmp.js";
export * from "./tcp.js";
export * from "./udp.js";
