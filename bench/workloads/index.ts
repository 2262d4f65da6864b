// The workloads `npm run bench` knows, in the order it runs them (see bench/README.md).
// To add one: write bench/workloads/wN.ts exporting a Workload, and list it here.
import type { Workload } from '../harness.js';
import { w1 } from './w1.js';
import { w2 } from './w2.js';
import { w3 } from './w3.js';
import { w4 } from './w4.js';
import { w5 } from './w5.js';
import { w6 } from './w6.js';
import { w7 } from './w7.js';

export const workloads: Workload[] = [w1, w2, w3, w4, w5, w6, w7];
