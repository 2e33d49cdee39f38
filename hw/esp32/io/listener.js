// embedded:io/socket/listener on the ESP32: this stack's Listener (src/socket/listener.ts).
// A re-export: see tcp.js beside this file.
export { Listener as default } from "xs-tcpip/src/socket/listener";
