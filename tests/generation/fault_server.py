"""A local OpenAI-compatible server that misbehaves on demand (the model name says how)."""

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def completion(text: str, finish_reason: str = "stop") -> dict:
    return {
        "id": "c1",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


class FaultServer:
    def __init__(self):
        self.hits: Counter = Counter()
        self.themes_asked: Counter = Counter()
        self.topics_asked: Counter = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def send(self, status, body, headers=()):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers:
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                model = payload.get("model", "")
                server.hits[model] += 1
                n = server.hits[model]
                if model == "ok":
                    last = payload["messages"][-1]["content"]
                    return self.send(200, completion(f"echo: {last}"))
                if model == "slow":
                    # A steady teacher: a numbered list of topics about the quoted theme.
                    time.sleep(0.4)
                    theme = payload["messages"][-1]["content"].split('"')[1]
                    server.themes_asked[theme] += 1
                    reply = "\n".join(
                        f"{i}. A tale of {theme} number {i} today" for i in range(1, 8)
                    )
                    return self.send(200, completion(reply))
                if model == "slow-story":
                    # A student that takes a second a story: a stories job that runs a while.
                    time.sleep(1.0)
                    return self.send(
                        200,
                        completion(
                            "Mara climbed the hill at dawn to find the lost goat.\n\n"
                            "In the end she carried it home and everyone cheered."
                        ),
                    )
                if model == "rate-limit":
                    if n == 1:
                        return self.send(
                            429, {"error": {"message": "slow down"}}, [("Retry-After", "1")]
                        )
                    return self.send(200, completion("after the wait"))
                if model == "error500":
                    return self.send(500, {"error": {"message": "boom"}})
                if model == "bad-request":
                    return self.send(400, {"error": {"message": "bad parameter"}})
                if model == "hang":
                    time.sleep(3)
                    return self.send(200, completion("too late"))
                if model == "malformed":
                    return self.send(200, b"{not json")
                if model == "empty":
                    body = completion("x")
                    body["choices"] = []
                    return self.send(200, body)
                if model == "until-pass":
                    # The first story for a topic runs into the token limit; the next is good.
                    topic = payload["messages"][-1]["content"].split('"')[1]
                    server.topics_asked[topic] += 1
                    if server.topics_asked[topic] == 1:
                        return self.send(200, completion("It began, and then it", "length"))
                    story = (
                        f"{topic} began on a quiet morning by the sea.\n\n"
                        "By evening everyone knew how it ended, and they were glad."
                    )
                    return self.send(200, completion(story))
                if model == "echo-auth":
                    # A server that puts the request's Authorization header in its error.
                    auth = self.headers.get("Authorization", "")
                    return self.send(401, {"error": {"message": f"bad credentials: {auth}"}})
                if model == "echo-auth-ok":
                    # A server that answers 200 with the request's key inside the text: as
                    # topics for a topics prompt, as a two-paragraph story otherwise.
                    auth = self.headers.get("Authorization", "")
                    key = auth.removeprefix("Bearer ")
                    last = payload["messages"][-1]["content"]
                    if "Provide" in last:
                        reply = "\n".join(
                            f"{i}. A keeper of the word {key} in tale {i} today"
                            for i in range(1, 8)
                        )
                    else:
                        reply = (
                            f"The lighthouse keeper wrote {key} on the wall by the stairs.\n\n"
                            f"At dawn the ship came home, and {auth} was the last thing he said."
                        )
                    return self.send(200, completion(reply))
                if model == "huge":
                    # A reply far longer than any story (sized by the request's max_tokens).
                    return self.send(200, completion("word " * payload.get("max_tokens", 8)))
                if model == "nul-error":
                    return self.send(500, {"error": {"message": "upstream\u0000 exploded"}})
                if model == "nul-finish":
                    return self.send(200, completion("1. A nul\u0000 topic here", "stop\u0000"))
                if model == "redirect":
                    self.send_response(307)
                    self.send_header("Location", "http://127.0.0.1:9/v1/chat/completions")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self.send(404, {"error": {"message": f"unknown model {model}"}})

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # clients that time out close the socket: expected here

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
