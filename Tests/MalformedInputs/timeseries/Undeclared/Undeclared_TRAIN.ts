@problemName Undeclared
@univariate true
@classLabel true a b
@data
1.0,2.0,3.0:a
1.0,2.0,3.0:zebra
