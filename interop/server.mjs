// A real Better Auth server for the interoperability tests: email/password sign-in
// and the jwt plugin, signing with the algorithm in BA_ALG (EdDSA, ES256, ES512,
// RS256, PS256) or, for HS256, with the plugin's custom signer and
// BETTER_AUTH_SECRET. Data lives in memory; it listens on 127.0.0.1:BA_PORT.
import { createServer } from "node:http";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins";
import { SignJWT } from "jose";

const alg = process.env.BA_ALG ?? "EdDSA";
const port = Number(process.env.BA_PORT ?? 3999);
const secret = process.env.BETTER_AUTH_SECRET;
const baseURL = `http://127.0.0.1:${port}`;

const keyPairConfigs = {
  EdDSA: { alg: "EdDSA", crv: "Ed25519" },
  ES256: { alg: "ES256" },
  ES512: { alg: "ES512" },
  RS256: { alg: "RS256", modulusLength: 2048 },
  PS256: { alg: "PS256", modulusLength: 2048 },
};

function jwtOptions() {
  if (alg !== "HS256") return { jwks: { keyPairConfig: keyPairConfigs[alg] } };
  // The plugin's supported custom signer: the same claims, HMAC with the shared
  // secret. It requires a remote JWKS URL, so this server's own /jwks is a 404.
  const key = new TextEncoder().encode(secret);
  return {
    jwks: { remoteUrl: `${baseURL}/no-jwks`, keyPairConfig: { alg: "EdDSA" } },
    jwt: { sign: (payload) => new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(key) },
  };
}

const db = { user: [], session: [], account: [], verification: [], jwks: [] };
const auth = betterAuth({
  baseURL,
  secret,
  database: memoryAdapter(db),
  emailAndPassword: { enabled: true },
  plugins: [jwt(jwtOptions())],
  logger: { level: "error" },
});

createServer(toNodeHandler(auth)).listen(port, "127.0.0.1", () => {
  console.log(`better-auth ${alg} listening on ${baseURL}`);
});
