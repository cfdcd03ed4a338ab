import { expect, test } from 'vitest';
import { bearerToken, isLiteralHost, isLocalOrigin, isLoopback, TokenCheck } from '../../src/control/auth.js';

test('loopback addresses', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) {
    expect(isLoopback(h), h).toBe(true);
  }
  for (const h of ['0.0.0.0', '::', '', '10.0.0.1', '192.0.2.1', '128.0.0.1', '::ffff:10.0.0.1', 'example.com', 'localhost.example.com']) {
    expect(isLoopback(h), h).toBe(false);
  }
});

test('host and origin checks', () => {
  expect(isLiteralHost('127.0.0.1:8080')).toBe(true);
  expect(isLiteralHost('[::1]:8080')).toBe(true);
  expect(isLiteralHost('localhost:8080')).toBe(true);
  expect(isLiteralHost('evil.example:8080')).toBe(false);
  expect(isLiteralHost(undefined)).toBe(false);
  expect(isLocalOrigin(undefined)).toBe(true);
  expect(isLocalOrigin('http://localhost:3000')).toBe(true);
  expect(isLocalOrigin('https://evil.example')).toBe(false);
  expect(isLocalOrigin('null')).toBe(false);
});

test('bearer tokens', () => {
  expect(bearerToken('Bearer abc')).toBe('abc');
  expect(bearerToken('bearer   abc ')).toBe('abc');
  expect(bearerToken('Basic abc')).toBeUndefined();
  expect(bearerToken(undefined)).toBeUndefined();
  const check = new TokenCheck('s3cret');
  expect(check.matches('s3cret')).toBe(true);
  expect(check.matches('s3cre')).toBe(false);
  expect(check.matches('s3cret-and-more')).toBe(false);
  expect(check.matches(undefined)).toBe(false);
});
