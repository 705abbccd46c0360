#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Test helper of test_cli_input.sh (not a test itself).
# Static files from the current directory, with byte ranges (libavformat seeks in mp4 over
# http with Range requests; python's http.server ignores them). Usage: range_server.py PORT
import http.server, os, re, sys

class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        m = re.match(r'bytes=(\d+)-(\d*)$', self.headers.get('Range', ''))
        if not m or not os.path.isfile(path):
            return super().send_head()
        size = os.path.getsize(path)
        a = int(m.group(1)); b = min(int(m.group(2) or size - 1), size - 1)
        if a >= size:
            self.send_error(416)
            return None
        f = open(path, 'rb'); f.seek(a)
        self.send_response(206)
        self.send_header('Content-Type', self.guess_type(path))
        self.send_header('Content-Range', 'bytes %d-%d/%d' % (a, b, size))
        self.send_header('Content-Length', str(b - a + 1))
        self.send_header('Accept-Ranges', 'bytes')
        self.end_headers()
        self.range_left = b - a + 1
        return f

    def copyfile(self, src, dst):
        n = getattr(self, 'range_left', None)
        if n is None:
            return super().copyfile(src, dst)
        while n > 0:
            buf = src.read(min(n, 65536))
            if not buf:
                break
            dst.write(buf); n -= len(buf)

http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
