/**
 * For the host type check of the XS-only modules (hw/esp32/tsconfig.json) only; Moddable's build
 * uses the SDK's own xs/includes/xs.d.ts and typings/{timer,time}.d.ts instead. The shapes below are
 * copied from those (Moddable @48ee02d) as far as these modules use them.
 */
declare function Native(name: string): new (...args: any[]) => any;
declare function native(name: string): (...args: any[]) => any;
declare function trace(...args: unknown[]): void;

declare module "timer" {
  export type TimerCallback = (timer: Timer) => void;
  class Timer {
    private constructor();
    static set: (callback: TimerCallback, interval?: number, repeat?: number) => Timer;
    static repeat: (callback: TimerCallback, interval: number) => Timer;
    static schedule: (timer: Timer, interval?: number, repeat?: number) => void;
    static clear: (timer: Timer | undefined | null) => void;
    static delay: (milliseconds: number) => void;
    private brand: boolean;
  }
  export { Timer as default };
}

declare module "time" {
  var Time: {
    set: (seconds: number) => void;
    timezone: number;
    dst: number;
    ticks: number;
    delta(start: number, end?: number): number;
    readonly microseconds?: number;
  };
  export { Time as default };
}

declare module "mc/config" {
  const config: { readonly [key: string]: unknown };
  export default config;
}
