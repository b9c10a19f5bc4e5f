/** nginx and HAProxy configurations for the side-by-side benchmark, all on 127.0.0.1. */

export interface Ports {
  upstream: number;
  nginxProxy: number;
  nginxStatic502: number;
  haproxy: number;
  blackhole: number;
  nginxBlackhole: number;
  haproxyBlackhole: number;
}

export function nginxUpstreamConfig(dir: string, ports: Ports): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx-upstream.pid;
error_log ${dir}/nginx-upstream.error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${ports.upstream} reuseport backlog=4096;
    root ${dir}/www;
  }
}
`;
}

export function nginxProxyConfig(dir: string, ports: Ports): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx-proxy.pid;
error_log ${dir}/nginx-proxy.error.log crit;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream app { server 127.0.0.1:${ports.upstream}; keepalive 128; }
  upstream blackhole { server 127.0.0.1:${ports.blackhole} max_fails=1 fail_timeout=5s; keepalive 16; }
  server {
    listen 127.0.0.1:${ports.nginxProxy} backlog=4096;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  server {
    listen 127.0.0.1:${ports.nginxStatic502} backlog=4096;
    location / { return 502 "502 Bad Gateway\\n"; }
  }
  server {
    listen 127.0.0.1:${ports.nginxBlackhole} backlog=4096;
    location / { proxy_pass http://blackhole; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_read_timeout 1s; proxy_next_upstream off; }
  }
}
`;
}

export function haproxyConfig(dir: string, ports: Ports): string {
  return `global
  nbthread 1
  maxconn 8000
  pidfile ${dir}/haproxy.pid
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend app
  bind 127.0.0.1:${ports.haproxy}
  default_backend app
backend app
  http-reuse always
  server app 127.0.0.1:${ports.upstream} maxconn 1024
frontend blackhole
  bind 127.0.0.1:${ports.haproxyBlackhole}
  default_backend blackhole
backend blackhole
  timeout server 1s
  http-reuse always
  server hole 127.0.0.1:${ports.blackhole} check observe layer7 error-limit 10 on-error mark-down inter 5s
`;
}

/** A Lua script for wrk that prints the result as one JSON line. */
export const WRK_JSON_SCRIPT = `
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  io.write(string.format('{"requests":%d,"seconds":%f,"errors":%d,"non2xx":%d,"p50":%f,"p99":%f,"max":%f}\\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
`;
