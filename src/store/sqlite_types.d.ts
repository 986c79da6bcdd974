/**
 * The members of `bun:sqlite` and `node:sqlite` that `sqlite_store.ts` uses,
 * so `tsc` checks it without Bun's types. Both drivers have this shape:
 * synchronous, positional parameters, BLOBs as Uint8Array.
 *
 * @module
 */

/** A value bound to or read from SQLite. */
export type SqlValue = string | number | bigint | Uint8Array | null;

/** A prepared statement. */
export interface SqlStatement {
  run(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
  /** bun:sqlite only: releases the statement now rather than when collected. */
  finalize?(): void;
}

/** An open database. */
export interface SqlDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): SqlStatement;
  close(): void;
}

/** `bun:sqlite`'s module: the `Database` constructor. */
export interface BunSqliteModule {
  Database: new (path: string, options?: { create?: boolean; strict?: boolean }) => SqlDatabase;
}

/** `node:sqlite`'s module (Node 24, Deno 2): the `DatabaseSync` constructor. */
export interface NodeSqliteModule {
  DatabaseSync: new (path: string) => SqlDatabase;
}
