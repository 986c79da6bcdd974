/** Gearman packet type numbers (PROTOCOL.md §3). */
export const PacketType = {
  CAN_DO: 1,
  CANT_DO: 2,
  RESET_ABILITIES: 3,
  PRE_SLEEP: 4,
  NOOP: 6,
  SUBMIT_JOB: 7,
  JOB_CREATED: 8,
  GRAB_JOB: 9,
  NO_JOB: 10,
  JOB_ASSIGN: 11,
  WORK_STATUS: 12,
  WORK_COMPLETE: 13,
  WORK_FAIL: 14,
  GET_STATUS: 15,
  ECHO_REQ: 16,
  ECHO_RES: 17,
  SUBMIT_JOB_BG: 18,
  ERROR: 19,
  STATUS_RES: 20,
  SUBMIT_JOB_HIGH: 21,
  SET_CLIENT_ID: 22,
  CAN_DO_TIMEOUT: 23,
  ALL_YOURS: 24,
  WORK_EXCEPTION: 25,
  OPTION_REQ: 26,
  OPTION_RES: 27,
  WORK_DATA: 28,
  WORK_WARNING: 29,
  GRAB_JOB_UNIQ: 30,
  JOB_ASSIGN_UNIQ: 31,
  SUBMIT_JOB_HIGH_BG: 32,
  SUBMIT_JOB_LOW: 33,
  SUBMIT_JOB_LOW_BG: 34,
  SUBMIT_JOB_SCHED: 35,
  SUBMIT_JOB_EPOCH: 36,
  SUBMIT_REDUCE_JOB: 37,
  SUBMIT_REDUCE_JOB_BACKGROUND: 38,
  GRAB_JOB_ALL: 39,
  JOB_ASSIGN_ALL: 40,
  GET_STATUS_UNIQUE: 41,
  STATUS_RES_UNIQUE: 42,
} as const;

/** A packet type number. */
export type PacketType = typeof PacketType[keyof typeof PacketType];

/** Highest defined packet type. */
export const MAX_PACKET_TYPE = 42;

/** Magic of packets sent to a server: `\0REQ`. */
export const MAGIC_REQ = 0x00524551;
/** Magic of packets sent by a server: `\0RES`. */
export const MAGIC_RES = 0x00524553;
/** Either packet magic. */
export type Magic = typeof MAGIC_REQ | typeof MAGIC_RES;

/** Size of the binary packet header. */
export const HEADER_SIZE = 12;

/** Packet names by type number, for logs and errors (index 5 is unused). */
export const PACKET_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, type] of Object.entries(PacketType)) names[type] = name;
  names[0] = "TYPE_0";
  names[5] = "TYPE_5";
  return names;
})();

/**
 * Number of NUL-separated arguments each type carries (libgearman's command
 * table); the last argument is the rest of the payload and may hold NULs.
 * Index 5 is unused.
 */
export const ARG_COUNTS: readonly number[] = [
  0, // 0 (invalid)
  1, // CAN_DO
  1, // CANT_DO
  0, // RESET_ABILITIES
  0, // PRE_SLEEP
  0, // 5 (unused)
  0, // NOOP
  3, // SUBMIT_JOB
  1, // JOB_CREATED
  0, // GRAB_JOB
  0, // NO_JOB
  3, // JOB_ASSIGN
  3, // WORK_STATUS
  2, // WORK_COMPLETE
  1, // WORK_FAIL
  1, // GET_STATUS
  1, // ECHO_REQ
  1, // ECHO_RES
  3, // SUBMIT_JOB_BG
  2, // ERROR
  5, // STATUS_RES
  3, // SUBMIT_JOB_HIGH
  1, // SET_CLIENT_ID
  2, // CAN_DO_TIMEOUT
  0, // ALL_YOURS
  2, // WORK_EXCEPTION
  1, // OPTION_REQ
  1, // OPTION_RES
  2, // WORK_DATA
  2, // WORK_WARNING
  0, // GRAB_JOB_UNIQ
  4, // JOB_ASSIGN_UNIQ
  3, // SUBMIT_JOB_HIGH_BG
  3, // SUBMIT_JOB_LOW
  3, // SUBMIT_JOB_LOW_BG
  8, // SUBMIT_JOB_SCHED
  4, // SUBMIT_JOB_EPOCH
  5, // SUBMIT_REDUCE_JOB
  5, // SUBMIT_REDUCE_JOB_BACKGROUND
  0, // GRAB_JOB_ALL
  5, // JOB_ASSIGN_ALL
  1, // GET_STATUS_UNIQUE
  6, // STATUS_RES_UNIQUE
];

/** Job priorities, in the order they are served. */
export const Priority = { HIGH: 0, NORMAL: 1, LOW: 2 } as const;
/** A job priority. */
export type Priority = typeof Priority[keyof typeof Priority];
