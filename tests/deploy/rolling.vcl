vcl 4.1;

import directors;

# The replicas (tests/deploy/test_rolling_deploy.py puts its two ports here).
backend a { .host = "127.0.0.1"; .port = "8001"; }
backend b { .host = "127.0.0.1"; .port = "8002"; }

sub vcl_init {
    new replicas = directors.round_robin();
    replicas.add_backend(a);
    replicas.add_backend(b);
}

sub vcl_recv {
    # First attempt: the round-robin; a retried request asks each replica in turn.
    if (req.restarts == 0) {
        set req.backend_hint = replicas.backend();
    } elsif (req.restarts == 1) {
        set req.backend_hint = a;
    } else {
        set req.backend_hint = b;
    }
    # One cached object per coding the origin has, not one per spelling.
    if (req.http.Accept-Encoding ~ "(^|[ ,])br($|[ ,;])") {
        set req.http.Accept-Encoding = "br";
    } elsif (req.http.Accept-Encoding ~ "(^|[ ,])gzip($|[ ,;])") {
        set req.http.Accept-Encoding = "gzip";
    } else {
        unset req.http.Accept-Encoding;
    }
}

sub vcl_backend_response {
    set beresp.keep = 1h;  # expired objects are revalidated with If-None-Match
}

sub vcl_deliver {
    # During a rolling deploy a static miss may be a file another replica
    # has: ask the others before answering. A 404 the cache stored would
    # answer the retry itself, which is why staticserve marks it no-store.
    if (req.restarts < 2 && (resp.status >= 500
                             || (resp.status == 404 && req.url ~ "^/static/"))) {
        return (restart);
    }
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
