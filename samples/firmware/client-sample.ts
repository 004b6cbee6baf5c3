/** Remote firmware for `rpmsg demo`: the sample service (samples/firmware/sample.ts). */
export { default } from './sample.js';
