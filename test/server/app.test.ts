// The server's Host check: a loopback server answers only to loopback names, so a web page whose
// DNS name re-resolves to 127.0.0.1 (DNS rebinding) cannot drive the API from a victim's browser.
import { request } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostName, isLoopback, loopbackHosts } from '../../src/server/app.ts';
import { type RunningServer, startServer } from '../../src/server/index.ts';
import { openStore } from '../../src/store/index.ts';
import { freshDb, type TestDb } from '../store/helpers.ts';

/** GET with an explicit Host header (fetch does not let a caller set Host). */
function get(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Host names', () => {
  it('takes the name without the port, IPv6 literals with their brackets', () => {
    expect(hostName('127.0.0.1:8080')).toBe('127.0.0.1');
    expect(hostName('LocalHost')).toBe('localhost');
    expect(hostName('[::1]:8080')).toBe('[::1]');
    expect(hostName('[::1]')).toBe('[::1]');
    expect(hostName('')).toBe('');
  });

  it('knows loopback bind addresses and extra names from the environment', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('127.1.2.3')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('10.0.0.1')).toBe(false);
    expect(loopbackHosts('triage.lan:8080, other')).toEqual([
      'localhost',
      '127.0.0.1',
      '[::1]',
      'triage.lan',
      'other',
    ]);
  });
});

describe('a loopback server', () => {
  let db: TestDb;
  let srv: RunningServer;
  beforeAll(async () => {
    db = await freshDb('sqlite');
    const store = await openStore(db.url);
    srv = await startServer({ store, port: 0, hostname: '127.0.0.1', runJobs: false });
    return async () => {
      await srv.close();
      await store.close();
      await db.drop();
    };
  });

  it('answers to loopback names', async () => {
    for (const host of [`127.0.0.1:${srv.port}`, `localhost:${srv.port}`, 'localhost']) {
      const r = await get(srv.port, '/api/v1/buckets', host);
      expect(r.status, host).toBe(200);
    }
  });

  it('refuses other names with 421 and a JSON error naming the host', async () => {
    for (const path of ['/api/v1/buckets', '/']) {
      const r = await get(srv.port, path, `rebind.example:${srv.port}`);
      expect(r.status, path).toBe(421);
      const body = JSON.parse(r.body) as { error: string; detail: string };
      expect(body.error).toBe('misdirected request');
      expect(body.detail).toContain('rebind.example');
      expect(body.detail).toContain('KTRIAGE_ALLOWED_HOSTS');
    }
  });
});
