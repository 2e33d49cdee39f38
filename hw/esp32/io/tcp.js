// embedded:io/socket/tcp on the ESP32: this stack's TCP (src/socket/tcp.ts).
// A re-export, because XS resolves a module's relative imports against the module's own name: mapped
// directly as "embedded:io/socket/tcp", src/socket/tcp.ts's "../stack.js" would become
// "embedded:io/stack". The stack's modules keep their repository paths under "xs-tcpip/".
export { TCP as default } from "xs-tcpip/src/socket/tcp";
