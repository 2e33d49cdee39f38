/**
 * Entry of the XS bundle (test/xs/*.test.ts bundle this file) and the V8 import: every scenario and
 * probe under one object, `scenarios[name](jsonArgs) -> json`. Pure ECMAScript.
 */
import * as memory from "./memory.js";
import * as sc from "./scenarios.js";

export const scenarios = {
  handshake: sc.handshake,
  bulk: sc.bulk,
  zeroWindow: sc.zeroWindow,
  loss: sc.loss,
  gracefulClose: sc.gracefulClose,
  rst: sc.rst,
  transfer: sc.transfer,
  setupSteady: sc.setupSteady,
  pump: sc.pump,
  steadyReport: sc.steadyReport,
  steadyRun: sc.steadyRun,
  dropSteady: sc.dropSteady,
  setupCompute: sc.setupCompute,
  runCompute: sc.runCompute,
  prepareDriver: memory.prepareDriver,
  holdStack: memory.holdStack,
  dropStack: memory.dropStack,
  noop: memory.noop,
  setupConnections: memory.setupConnections,
  openConnections: memory.openConnections,
};

/** The scenarios both engines must agree on, with their arguments. */
export const SHARED_RUNS: readonly { readonly name: string; readonly args: Record<string, unknown> }[] = [
  { name: "handshake", args: { seed: 1 } },
  { name: "handshake", args: { seed: 2, preset: "throughput" } },
  { name: "bulk", args: { seed: 3 } },
  { name: "zeroWindow", args: { seed: 4 } },
  { name: "loss", args: { seed: 5 } },
  { name: "loss", args: { seed: 6, preset: "minimal", stack: { sack: false, timestamps: false } } },
  { name: "gracefulClose", args: { seed: 7 } },
  { name: "rst", args: { seed: 8 } },
  { name: "steadyRun", args: { seed: 9, frames: 1500, lossAB: 0.02, lossBA: 0.02 } },
  { name: "steadyRun", args: { seed: 10, frames: 1000, oneWay: true, holdMs: 300, readMs: 100, preset: "throughput" } },
];
