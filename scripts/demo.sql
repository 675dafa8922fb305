-- Demo data for scripts/demo: a few realistic support tickets and emails.
-- The demo database is ours, so the extension is recreated each run to
-- pick up a newly installed version.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS llm_ext CASCADE;
CREATE EXTENSION llm_ext;

DROP TABLE IF EXISTS tickets;
CREATE TABLE tickets (
    id         serial PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    subject    text NOT NULL,
    body       text NOT NULL,
    category   text
);

INSERT INTO tickets (subject, body) VALUES
('Cannot log in after password reset',
 'Hi, I reset my password this morning using the link you emailed me, but now the login page just says "invalid credentials" every time. I tried Chrome and Firefox and cleared my cache. My username is jmartin. Can you help? I have a client demo at 3pm.'),
('Charged twice for March invoice',
 'Hello, our company card was charged twice for invoice INV-2024-0311 ($249.00 each, on March 3rd and March 4th). Please refund the duplicate charge. Account: Northwind Traders, customer id 48213.'),
('Export to CSV cuts off long descriptions',
 'When I export the product list to CSV, any description longer than 255 characters is truncated. This breaks our import into the warehouse system. Steps: Products > Export > CSV, then open the file. Version 4.2.1 on Windows 11.'),
('Feature request: dark mode',
 'Love the app! Would it be possible to add a dark mode? I work late and the white background is hard on the eyes. Thanks for all the great work.'),
('API returns 500 on /v2/orders with large page size',
 'GET /v2/orders?page_size=1000 returns HTTP 500 with body {"error":"internal"}. page_size=200 works. Started after yesterday''s deploy (around 14:20 UTC). Request id: 7f3c9a12-8e4b-4c1d-9f0a-2b6e5d8c1a77.'),
('Где мой заказ?',
 'Здравствуйте! Я оформил заказ №58127 две недели назад, но он до сих пор не доставлен. Трек-номер не обновляется с 12 мая. Подскажите, пожалуйста, что происходит?');

DROP TABLE IF EXISTS emails;
CREATE TABLE emails (
    id       serial PRIMARY KEY,
    sender   text NOT NULL,
    received timestamptz NOT NULL DEFAULT now(),
    body     text NOT NULL,
    data     jsonb
);

INSERT INTO emails (sender, body) VALUES
('alice.wong@contoso.com',
 'Hi team, please find attached the signed contract for order #10482. Total is EUR 12,400.00, payment due within 30 days (by 15 July 2024). Let me know if anything is missing. Best, Alice Wong, Procurement, Contoso Ltd.'),
('bob@example.org',
 'Hey, just following up on my refund request from last week (order 99-4471). It''s been 8 business days. Could you give me an update? Thanks, Bob'),
('noreply@shipping.example.com',
 'Your package 1Z999AA10123456784 was delivered on 2024-06-02 at 10:14 to the front door. Signed by: K. MEYER.'),
('yuki.tanaka@example.jp',
 'お世話になっております。先日注文した商品（注文番号: JP-2024-0588）がまだ届いておりません。配送状況を確認していただけますでしょうか。よろしくお願いいたします。田中'),
('cfo@fabrikam.com',
 'Quick one: can you confirm whether the Q2 license renewal (150 seats at $42/seat/month) includes premium support? We need to close the budget by Friday.');

-- The JSON Schema scripts/demo extracts from each email (llm_extract_json).
DROP TABLE IF EXISTS demo_schemas;
CREATE TABLE demo_schemas (name text PRIMARY KEY, schema jsonb NOT NULL);
INSERT INTO demo_schemas VALUES ('email', '{
  "type": "object",
  "properties": {
    "customer": {"type": "string", "maxLength": 60},
    "order_id": {"type": ["string", "null"], "pattern": "^[A-Za-z0-9#-]{3,24}$"},
    "amount":   {"type": ["number", "null"], "minimum": 0},
    "request":  {"enum": ["refund", "delivery status", "contract", "question", "other"]}
  },
  "required": ["customer", "order_id", "amount", "request"]
}');
