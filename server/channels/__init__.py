"""Channel senders: email (SMTP), SMS (Twilio), push (FCM, Web Push), webhooks, capture."""
