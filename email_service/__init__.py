"""HMS email service: the AWS Lambda behind API Gateway, and its offline runner.

Kept free of the Flask app's code so that the same directory deploys to Lambda unchanged.
"""
