// The workloads `npm run bench` knows, in the order it runs them (see WORKLOADS.md).
// To add one: write bench/workloads/wN.ts exporting a Workload, and list it here.
import type { Workload } from '../harness.js';
import { w1 } from './w1.js';
import { w2 } from './w2.js';

export const workloads: Workload[] = [w1, w2];
