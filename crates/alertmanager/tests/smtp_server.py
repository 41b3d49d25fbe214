# A real SMTP server for the e-mail test: aiosmtpd's Controller on 127.0.0.1:PORT, each message
# appended to OUT as one JSON line {mail_from, rcpt_tos, data}; with AUTH (PLAIN/LOGIN) for
# user "bob" / password "secret" when a third argument "auth" is given.
import json, sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, out = int(sys.argv[1]), sys.argv[2]
auth = len(sys.argv) > 3 and sys.argv[3] == "auth"

class Handler:
    async def handle_DATA(self, server, session, envelope):
        with open(out, "a") as f:
            f.write(json.dumps({
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "data": envelope.content.decode("utf8", "replace"),
                "login": session.auth_data.login.decode() if auth and session.auth_data else None,
            }) + "\n")
        return "250 OK"

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"bob" and auth_data.password == b"secret"
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

kw = dict(auth_require_tls=False, authenticator=authenticator, auth_required=True) if auth else {}
c = Controller(Handler(), hostname="127.0.0.1", port=port, **kw)
c.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
