# An Application Load Balancer in front of the chaos upstream. deploy/alb/README.md walks through it.
#
# The upstream runs on a host of yours in the VPC (an EC2 instance, an ECS task) as
#   badgateway serve --suite /suite --host 0.0.0.0 --port 8080
# and answers GET /healthz, which the target group checks. Everything under /s/ is forwarded to it.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

variable "vpc_id" {
  type        = string
  description = "The VPC of the load balancer and the upstream host."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Public subnets for the load balancer, in at least two Availability Zones."
}

variable "upstream_ip" {
  type        = string
  description = "Private IP address of the host that runs badgateway serve (port 8080)."
}

variable "client_cidr" {
  type        = string
  description = "Who may reach the load balancer: the address badgateway run drives it from."
}

variable "access_log_bucket" {
  type        = string
  default     = ""
  description = "S3 bucket for the access log (with the bucket policy AWS documents for ELB logs); empty: no access log."
}

resource "aws_security_group" "alb" {
  name_prefix = "badgateway-alb-"
  vpc_id      = var.vpc_id
  ingress {
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = [var.client_cidr]
  }
  egress {
    from_port   = 8080
    to_port     = 8080
    protocol    = "tcp"
    cidr_blocks = ["${var.upstream_ip}/32"]
  }
}

resource "aws_lb" "badgateway" {
  name_prefix        = "bgw-"
  load_balancer_type = "application"
  subnets            = var.subnet_ids
  security_groups    = [aws_security_group.alb.id]
  # Below the probes' 5 s request timeout, so a target that never answers gets the ALB's 504
  # (the default, 60 s, outlasts every probe). The documented expectations assume it.
  idle_timeout = 4
  access_logs {
    bucket  = var.access_log_bucket
    enabled = var.access_log_bucket != ""
  }
}

resource "aws_lb_target_group" "upstream" {
  name_prefix = "bgw-"
  vpc_id      = var.vpc_id
  target_type = "ip"
  protocol    = "HTTP"
  port        = 8080
  # A scenario's connection is cut on purpose; nothing in flight needs draining.
  deregistration_delay = 0
  health_check {
    path                = "/healthz"
    port                = "traffic-port"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_target_group_attachment" "upstream" {
  target_group_arn = aws_lb_target_group.upstream.arn
  target_id        = var.upstream_ip
  port             = 8080
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.badgateway.arn
  port              = 80
  protocol          = "HTTP"
  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "not a badgateway route"
      status_code  = "404"
    }
  }
}

resource "aws_lb_listener_rule" "scenarios" {
  listener_arn = aws_lb_listener.http.arn
  priority     = 10
  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.upstream.arn
  }
  condition {
    path_pattern {
      values = ["/s/*"]
    }
  }
}

output "url" {
  value       = "http://${aws_lb.badgateway.dns_name}"
  description = "What badgateway run --url takes."
}
