// The cluster's certificates and the admin credential, generated into the data dir on first
// start and reused afterwards (so a kubeconfig keeps working across restarts). ECDSA P-256 via
// WebCrypto: key generation takes milliseconds, which keeps `skiff up` fast.
import { webcrypto, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
// @peculiar/x509 resolves its ASN.1 codecs through tsyringe, which needs the Reflect metadata polyfill first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const TEN_YEARS = 10 * 365 * 24 * 3600 * 1000;

export interface ClusterPki {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** The admin bearer token (kubeconfig's user). */
  adminToken: string;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function der(pemText: string): ArrayBuffer {
  const b = Buffer.from(pemText.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

/** Names and addresses the serving certificate is valid for. */
export function servingNames(extra: string[] = []): { dns: string[]; ips: string[] } {
  const dns = ['localhost', hostname(), 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  const ips = ['127.0.0.1', '::1', '10.43.0.1'];
  for (const e of extra) (/^[\d.]+$|:/.test(e) ? ips : dns).push(e);
  return { dns: [...new Set(dns)], ips: [...new Set(ips)] };
}

async function createCa(): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: 'CN=skiff-ca',
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + TEN_YEARS),
    signingAlgorithm: SIGN,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function createServing(ca: { cert: x509.X509Certificate; key: CryptoKey }, names: { dns: string[]; ips: string[] }) {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString('hex'),
    subject: 'CN=kube-apiserver',
    issuer: ca.cert.subject,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + TEN_YEARS),
    signingAlgorithm: SIGN,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...names.dns.map((value) => ({ type: 'dns' as const, value })), ...names.ips.map((value) => ({ type: 'ip' as const, value }))]),
    ],
  });
  return { cert, keys };
}

/**
 * Loads the PKI from `dir`, creating what is missing: `pki/ca.{crt,key}`, `pki/server.{crt,key}`
 * and `admin.token`. Private files are written mode 0600.
 */
export async function loadOrCreatePki(dir: string, extraNames: string[] = []): Promise<ClusterPki> {
  const pki = join(dir, 'pki');
  mkdirSync(pki, { recursive: true, mode: 0o700 });
  const f = (n: string) => join(pki, n);
  const write = (p: string, s: string) => writeFileSync(p, s, { mode: 0o600 });

  let caPem: string;
  let caKey: CryptoKey;
  if (existsSync(f('ca.crt')) && existsSync(f('ca.key'))) {
    caPem = readFileSync(f('ca.crt'), 'utf8');
    caKey = await webcrypto.subtle.importKey('pkcs8', der(readFileSync(f('ca.key'), 'utf8')), EC, true, ['sign']);
  } else {
    const ca = await createCa();
    caPem = ca.cert.toString('pem') + '\n';
    caKey = ca.keys.privateKey;
    write(f('ca.key'), pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', ca.keys.privateKey)));
    write(f('ca.crt'), caPem);
  }
  if (!existsSync(f('server.crt')) || !existsSync(f('server.key'))) {
    const s = await createServing({ cert: new x509.X509Certificate(caPem), key: caKey }, servingNames(extraNames));
    write(f('server.key'), pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', s.keys.privateKey)));
    write(f('server.crt'), s.cert.toString('pem') + '\n');
  }
  const tokenFile = join(dir, 'admin.token');
  if (!existsSync(tokenFile)) write(tokenFile, randomBytes(24).toString('hex') + '\n');
  return {
    caPem,
    certPem: readFileSync(f('server.crt'), 'utf8'),
    keyPem: readFileSync(f('server.key'), 'utf8'),
    adminToken: readFileSync(tokenFile, 'utf8').trim(),
  };
}

/** Constant-time comparison of a presented bearer token with a known one. */
export function tokenMatches(presented: string, known: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(known);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A kubeconfig for the admin user, as `kubectl` reads it. */
export function adminKubeconfig(server: string, caPem: string, token: string, name = 'skiff'): string {
  const ca = Buffer.from(caPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    `- name: ${name}-admin`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    `    user: ${name}-admin`,
    '    namespace: default',
    `current-context: ${name}`,
    'preferences: {}',
    '',
  ].join('\n');
}
