"""crm-customer360: the golden customer profile service of the ERP."""
