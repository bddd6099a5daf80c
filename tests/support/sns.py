"""Amazon SNS messages signed the way SNS signs them (RSA over the canonical string, with a
certificate served from an sns.<region>.amazonaws.com URL). The certificate is placed in
the SES channel's certificate cache under that URL, so no network is needed."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from dealerhub.channels.providers import ses_email

CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"


class SnsSigner:
    def __init__(self, cert_url: str = CERT_URL) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = datetime.now(UTC)
        certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                       .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                       .not_valid_before(now - timedelta(days=1))
                       .not_valid_after(now + timedelta(days=30))
                       .sign(self.key, hashes.SHA256()))
        self.cert_url = cert_url
        ses_email.CERTIFICATES[cert_url] = certificate.public_bytes(serialization.Encoding.PEM)

    def notification(self, topic_arn: str, message: dict[str, Any], *,
                     version: str = "1", key: rsa.RSAPrivateKey | None = None) -> dict[str, Any]:
        return self.signed({"Type": "Notification", "TopicArn": topic_arn,
                            "Message": json.dumps(message)}, version=version, key=key)

    def subscription_confirmation(self, topic_arn: str, token: str) -> dict[str, Any]:
        """What SNS posts to a new HTTPS subscriber (SubscribeURL as SNS builds it)."""
        region = topic_arn.split(":")[3]
        return self.signed({
            "Type": "SubscriptionConfirmation", "TopicArn": topic_arn, "Token": token,
            "Message": f"You have chosen to subscribe to the topic {topic_arn}.\nTo confirm "
                       "the subscription, visit the SubscribeURL included in this message.",
            "SubscribeURL": f"https://sns.{region}.amazonaws.com/?Action=ConfirmSubscription"
                            f"&TopicArn={topic_arn}&Token={token}"})

    def signed(self, fields: dict[str, Any], *, version: str = "1",
               key: rsa.RSAPrivateKey | None = None) -> dict[str, Any]:
        document = {
            **fields, "MessageId": secrets.token_hex(16),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "SignatureVersion": version, "SigningCertURL": self.cert_url,
        }
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signature = (key or self.key).sign(ses_email.string_to_sign(document),
                                           padding.PKCS1v15(), algorithm)
        document["Signature"] = base64.b64encode(signature).decode()
        return document


def ses_bounce(mail_message_id: str, bounce_type: str = "Permanent") -> dict[str, Any]:
    return {"notificationType": "Bounce",
            "bounce": {"bounceType": bounce_type, "bounceSubType": "General",
                       "bouncedRecipients": [{"emailAddress": "x@example.com"}]},
            "mail": {"messageId": mail_message_id}}


def ses_complaint(mail_message_id: str) -> dict[str, Any]:
    return {"notificationType": "Complaint", "complaint": {"feedbackId": secrets.token_hex(8)},
            "mail": {"messageId": mail_message_id}}


def ses_delivery(mail_message_id: str) -> dict[str, Any]:
    return {"notificationType": "Delivery", "mail": {"messageId": mail_message_id}}
