/** nginx and HAProxy configurations for the HTTP/2 benchmarks (bench/http2.ts, bench/alloc.ts), all on 127.0.0.1. */

/** One nginx worker whose `http` block holds `body`, with the HTTP/2 limits raised out of the way. */
function nginxH2Config(dir: string, name: string, body: string): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/${name}.pid;
error_log ${dir}/${name}.error.log crit;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  http2_max_requests 1000000;
  http2_max_concurrent_streams 1024;
${body}}
`;
}

/** The h2c app: nginx serving `${dir}/www` over HTTP/2 with prior knowledge. */
export function nginxH2cAppConfig(dir: string, port: number): string {
  return nginxH2Config(dir, 'nginx-h2c-app', `  server { listen 127.0.0.1:${port} http2; root ${dir}/www; }
`);
}

/** nginx as the h2c proxy: an \`http2\` listener with \`grpc_pass\` (its only HTTP/2 upstream), one for each app. */
export function nginxH2ProxyConfig(dir: string, ports: { app: number; grpc: number; nginxH2: number; nginxGrpc: number }): string {
  return nginxH2Config(dir, 'nginx-h2-proxy', `  upstream h2app { server 127.0.0.1:${ports.app}; keepalive 32; }
  upstream grpcapp { server 127.0.0.1:${ports.grpc}; keepalive 32; }
  server { listen 127.0.0.1:${ports.nginxH2} http2; location / { grpc_pass grpc://h2app; } }
  server { listen 127.0.0.1:${ports.nginxGrpc} http2; location / { grpc_pass grpc://grpcapp; } }
`);
}

export function haproxyH2Config(ports: { app: number; grpc: number; haproxyH2: number; haproxyGrpc: number }): string {
  return `global
  maxconn 8000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend h2
  bind 127.0.0.1:${ports.haproxyH2} proto h2
  default_backend h2app
frontend grpc
  bind 127.0.0.1:${ports.haproxyGrpc} proto h2
  default_backend grpcapp
backend h2app
  server app 127.0.0.1:${ports.app} proto h2
backend grpcapp
  server app 127.0.0.1:${ports.grpc} proto h2
`;
}
