# SPDX-License-Identifier: MIT
# Varnish in front of the Flask example (docs/operations.md, "HTTP caching"). Two rules keep
# every answer fresh to a stated bound:
#  - a write through the app is followed, before the app answers it, by a BAN the app sends
#    here (PRKL_VARNISH_URL): the next read of anything is fetched anew;
#  - a write by anyone else (SQL on an adopted database) is seen once the answer's max-age
#    (PRKL_CACHE_CONTROL, e.g. "public, max-age=1") is over: the object is then revalidated with
#    If-None-Match, which costs the app one read of the data version when nothing changed.
# No grace: an expired answer is never served while it is being revalidated.
vcl 4.1;

backend prkl {
    .host = "127.0.0.1";
    .port = "8000";
}

acl invalidators {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "BAN") {
        if (!client.ip ~ invalidators) {
            return (synth(405, "BAN is not allowed from " + client.ip));
        }
        # Any batch can change any answer: everything cached goes.
        ban("obj.status != 0");
        return (synth(200, "banned"));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # The answers do not depend on cookies or credentials; the query string is the question.
    unset req.http.Cookie;
    return (hash);
}

sub vcl_backend_response {
    # Only what the app tagged as cacheable (errors and answers in other currencies are no-store).
    if (beresp.http.Cache-Control ~ "no-store" || !beresp.http.ETag) {
        set beresp.uncacheable = true;
        set beresp.ttl = 0s;
        return (deliver);
    }
    # no-cache (the app's default) means ask again every time: kept only to revalidate. So does
    # an answer without a max-age, which Varnish would otherwise keep for its default TTL.
    if (beresp.http.Cache-Control ~ "no-cache" || beresp.http.Cache-Control !~ "max-age") {
        set beresp.ttl = 0s;
    }
    set beresp.grace = 0s;
    # Kept past its TTL so that Varnish revalidates it with If-None-Match instead of refetching.
    set beresp.keep = 1h;
    return (deliver);
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
