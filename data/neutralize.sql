-- a copied database must never talk to the real Netvisor with the real keys
UPDATE res_company
   SET netvisor_partner_key = NULL,
       netvisor_customer_key = NULL,
       netvisor_auto_send_invoice = FALSE,
       netvisor_auto_send_payslip = FALSE;
